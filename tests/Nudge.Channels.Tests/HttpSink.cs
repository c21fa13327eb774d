using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Nudge.Channels.Tests;

/// <summary>A real HTTP listener on loopback that records every request and answers as told.</summary>
public sealed class HttpSink : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();

    public HttpSink(Func<RecordedRequest, (int Status, string Body, IReadOnlyDictionary<string, string>? Headers)>? answer = null)
    {
        Port = SmtpSink.FreePort();
        Answer = answer ?? (_ => (200, "{}", null));
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}";

    public Func<RecordedRequest, (int Status, string Body, IReadOnlyDictionary<string, string>? Headers)> Answer { get; set; }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
            var request = new RecordedRequest(context.Request.HttpMethod, context.Request.Url!.PathAndQuery, headers, body);
            Requests.Enqueue(request);
            var (status, answer, extra) = Answer(request);
            context.Response.StatusCode = status;
            foreach (var (name, value) in extra ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
            var bytes = Encoding.UTF8.GetBytes(answer);
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}

/// <summary>A request the sink received.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body);
