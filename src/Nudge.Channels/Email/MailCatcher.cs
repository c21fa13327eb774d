using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Nudge.Channels.Email;

/// <summary>A message the catcher received.</summary>
/// <param name="Id">Its number: 1 for the first message received since start, and so on.</param>
/// <param name="From">The envelope sender.</param>
/// <param name="To">The envelope recipients.</param>
/// <param name="Data">The message as sent (headers and body, dot-unstuffed).</param>
/// <param name="ReceivedAt">When it arrived.</param>
public sealed record CaughtMail(long Id, string From, IReadOnlyList<string> To, string Data, DateTimeOffset ReceivedAt);

/// <summary>
/// A small SMTP server on loopback that accepts every message (HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP,
/// QUIT, with pipelining) and keeps the most recent ones: a safe place to send mail while trying out
/// journeys and templates, and the sink of the delivery benchmark.
/// </summary>
public sealed class MailCatcher : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly int _keep;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Queue<CaughtMail> _mail = new();
    private readonly Task _accepting;
    private long _received;

    /// <summary>Starts listening on <paramref name="port"/> (0: any free port) of 127.0.0.1.</summary>
    /// <param name="port">The port.</param>
    /// <param name="keep">How many recent messages to keep (0: count only).</param>
    /// <param name="time">The clock that stamps arrivals (the engine's, which may be virtual); the system clock by default.</param>
    public MailCatcher(int port = 0, int keep = 1_000, TimeProvider? time = null)
    {
        _keep = keep;
        _time = time ?? TimeProvider.System;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Messages accepted since start.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>The kept messages, oldest first.</summary>
    public IReadOnlyList<CaughtMail> Messages
    {
        get { lock (_gate) return [.. _mail]; }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            socket.NoDelay = true;
            _ = Task.Run(() => ServeAsync(socket));
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var reader = PipeReader.Create(stream);
        var writer = PipeWriter.Create(stream);
        string? from = null;
        List<string> to = [];
        try
        {
            await ReplyAsync(writer, "220 localhost Nudge mail catcher");
            while (true)
            {
                var line = await ReadLineAsync(reader);
                if (line is null) return;
                var verb = (line.Length >= 4 ? line[..4] : line).ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await ReplyAsync(writer, "250-localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800");
                        break;
                    case "HELO":
                    case "NOOP":
                        await ReplyAsync(writer, "250 OK");
                        break;
                    case "MAIL":
                        (from, to) = (Address(line), []);
                        await ReplyAsync(writer, "250 OK");
                        break;
                    case "RCPT":
                        to.Add(Address(line));
                        await ReplyAsync(writer, "250 OK");
                        break;
                    case "DATA":
                        if (from is null || to.Count == 0) { await ReplyAsync(writer, "503 MAIL and RCPT first"); break; }
                        await ReplyAsync(writer, "354 End data with <CR><LF>.<CR><LF>");
                        var data = await ReadDataAsync(reader);
                        if (data is null) return;
                        Keep(from, to, data);
                        (from, to) = (null, []);
                        await ReplyAsync(writer, "250 OK queued");
                        break;
                    case "RSET":
                        (from, to) = (null, []);
                        await ReplyAsync(writer, "250 OK");
                        break;
                    case "QUIT":
                        await ReplyAsync(writer, "221 Bye");
                        return;
                    default:
                        await ReplyAsync(writer, "502 Command not implemented");
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
    }

    /// <summary>The kept message numbered <paramref name="id"/>, if it is still kept.</summary>
    public CaughtMail? Find(long id)
    {
        lock (_gate) return _mail.FirstOrDefault(m => m.Id == id);
    }

    /// <summary>Kept messages numbered after <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<CaughtMail> After(long after)
    {
        lock (_gate) return [.. _mail.Where(m => m.Id > after)];
    }

    private void Keep(string from, List<string> to, string data)
    {
        // Numbered under the lock, so the kept messages are in number order.
        lock (_gate)
        {
            var id = Interlocked.Increment(ref _received);
            if (_keep == 0) return;
            _mail.Enqueue(new CaughtMail(id, from, to, data, _time.GetUtcNow()));
            while (_mail.Count > _keep) _mail.Dequeue();
        }
    }

    private static string Address(string line)
    {
        var start = line.IndexOf('<', StringComparison.Ordinal);
        var end = line.IndexOf('>', StringComparison.Ordinal);
        return start >= 0 && end > start ? line[(start + 1)..end] : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static async ValueTask ReplyAsync(PipeWriter writer, string reply)
    {
        await writer.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"));
    }

    private async Task<string?> ReadLineAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync(_stop.Token);
            var buffer = result.Buffer;
            if (buffer.PositionOf((byte)'\n') is { } end)
            {
                var line = Encoding.UTF8.GetString(buffer.Slice(0, end)).TrimEnd('\r');
                reader.AdvanceTo(buffer.GetPosition(1, end));
                return line;
            }

            if (result.IsCompleted) return null;
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task<string?> ReadDataAsync(PipeReader reader)
    {
        var text = new StringBuilder();
        while (await ReadLineAsync(reader) is { } line)
        {
            if (line == ".") return text.ToString();
            text.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n"); // RFC 5321 4.5.2 dot-unstuffing
        }

        return null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
