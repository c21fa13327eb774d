using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Nudge.Channels.Tests;

/// <summary>A real SMTP server (aiosmtpd) on a loopback port, started and stopped by the test.</summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nudge-smtp-").FullName;
    private Process? _process;

    private SmtpSink(int port) => Port = port;

    public int Port { get; }

    private string RefuseFile => Path.Combine(_directory, "REFUSE");

    public static async Task<SmtpSink> StartAsync()
    {
        var sink = new SmtpSink(FreePort());
        await sink.StartAgainAsync();
        return sink;
    }

    /// <summary>Starts the server (again) on the same port and folder.</summary>
    public async Task StartAgainAsync()
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var info = new ProcessStartInfo(python, ["smtp_sink.py", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", _directory, "--refuse", RefuseFile])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory,
        };
        _process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "ready")
            throw new InvalidOperationException($"The SMTP sink did not start (needs Debian's python3-aiosmtpd): {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    /// <summary>Stops the server: connections are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>While on, the server answers MAIL FROM with 421.</summary>
    public void Refuse(bool on)
    {
        if (on) File.WriteAllText(RefuseFile, "");
        else File.Delete(RefuseFile);
    }

    /// <summary>Messages received so far, in order.</summary>
    public IReadOnlyList<ReceivedMail> Messages() =>
        [.. Directory.GetFiles(_directory, "*.json").Order(StringComparer.Ordinal).Select(f =>
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(f));
            var r = doc.RootElement;
            return new ReceivedMail(r.GetProperty("mail_from").GetString()!, [.. r.GetProperty("rcpt_tos").EnumerateArray().Select(t => t.GetString()!)],
                r.GetProperty("data").GetString()!);
        })];

    /// <summary>Waits until at least <paramref name="count"/> messages arrived.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var messages = Messages();
            if (messages.Count >= count || DateTime.UtcNow > until) return messages;
            await Task.Delay(50);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>A message as the SMTP server received it.</summary>
public sealed record ReceivedMail(string MailFrom, IReadOnlyList<string> Recipients, string Data)
{
    public MimeKit.MimeMessage Parse() => MimeKit.MimeMessage.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(Data)));
}
