using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Nudge.Cli.Demo;

/// <summary>A request a stand-in provider received: which provider, and the JSON it was sent.</summary>
internal sealed record ProviderRequest(string Provider, JsonNode Body);

/// <summary>
/// An HTTP listener on loopback standing in for the SMS provider (Nudge's generic JSON format) and the
/// WeCom and DingTalk group robots: it answers each the way the real one does on success and keeps
/// what it was sent, so the demo's customers can read it and the report can be checked against it.
/// </summary>
internal sealed class ProviderSink : IAsyncDisposable
{
    public const string Sms = "sms";
    public const string WeCom = "wecom";
    public const string DingTalk = "dingtalk";

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ProviderRequest> _received = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();
    private long _count;

    private ProviderSink(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    /// <summary>Requests received so far, per provider.</summary>
    public IReadOnlyDictionary<string, long> Counts => _counts;

    public static async Task<ProviderSink> StartAsync(CancellationToken cancellationToken)
    {
        var builder = Nudge.Server.NudgeApp.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new ProviderSink(app);
        foreach (var provider in new[] { Sms, WeCom, DingTalk })
            app.MapPost($"/{provider}", (HttpRequest request) => sink.ReceiveAsync(provider, request));
        await app.StartAsync(cancellationToken);
        sink.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return sink;
    }

    private async Task<IResult> ReceiveAsync(string provider, HttpRequest request)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body);
        }
        catch (System.Text.Json.JsonException)
        {
            body = null;
        }

        if (body is null) return Results.BadRequest();
        _received.Enqueue(new ProviderRequest(provider, body));
        _counts.AddOrUpdate(provider, 1, (_, n) => n + 1);
        // The robots answer errcode 0 on success; the generic SMS format only needs a 2xx.
        return provider == Sms ? Results.Json(new JsonObject { ["id"] = $"sink-{Interlocked.Increment(ref _count)}" }) : Results.Json(new JsonObject { ["errcode"] = 0, ["errmsg"] = "ok" });
    }

    /// <summary>Takes the requests received since the last call.</summary>
    public List<ProviderRequest> Take()
    {
        List<ProviderRequest> taken = [];
        while (_received.TryDequeue(out var r)) taken.Add(r);
        return taken;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
