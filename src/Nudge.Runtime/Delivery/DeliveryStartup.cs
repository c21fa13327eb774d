using Microsoft.Extensions.Hosting;
using Nudge.Engine.Messaging;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>The tracking-link signer, keyed by a secret made on first start and kept in the store.</summary>
public sealed class TrackingKeyring
{
    private TrackingTokens? _tokens;

    /// <summary>The signer; set before the server takes requests.</summary>
    public TrackingTokens Tokens => _tokens ?? throw new InvalidOperationException("Tracking keys are loaded at start.");

    internal void Set(byte[] key) => _tokens = new TrackingTokens(key);
}

/// <summary>
/// Runs before delivery and the web server start: loads the tracking key, templates and coupon campaigns, and puts
/// messages a previous run left half-done where they belong.
/// </summary>
public sealed class DeliveryStartup(INudgeStore store, TrackingKeyring keyring, TemplateRegistry templates, Coupons coupons, TimeProvider time) : IHostedService
{
    private const string KeyName = "tracking_key";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var stored = await store.GetMetaAsync(KeyName, cancellationToken);
        if (stored is null)
        {
            stored = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
            await store.SetMetaAsync(KeyName, stored, cancellationToken);
        }

        keyring.Set(Convert.FromBase64String(stored));
        await templates.LoadAsync(cancellationToken);
        await coupons.LoadAsync(cancellationToken);
        await store.RecoverMessagesAsync(time.GetUtcNow(), cancellationToken);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
