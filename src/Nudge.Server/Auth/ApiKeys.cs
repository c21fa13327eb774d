using System.Security.Cryptography;
using System.Text;
using Nudge.Storage;

namespace Nudge.Server.Auth;

/// <summary>What a presented key is allowed to do.</summary>
public enum KeyKind
{
    /// <summary>Not a key of this engine.</summary>
    None,
    /// <summary>Ingestion only (/v1/*): safe to ship inside a web page or app.</summary>
    Write,
    /// <summary>The management API (/api/*).</summary>
    Admin,
}

/// <summary>
/// The engine's write and admin keys. Only SHA-256 hashes are stored (the keys are 256-bit random
/// values, so a fast hash is enough); a new key is shown once, on the start that creates it.
/// </summary>
public sealed class ApiKeys
{
    private byte[] _write = [];
    private byte[] _admin = [];

    /// <summary>
    /// Loads the stored hashes. A key given explicitly (NUDGE_WRITE_KEY / NUDGE_ADMIN_KEY) replaces the
    /// stored one; a kind with neither gets a new key, printed to <paramref name="console"/> once.
    /// </summary>
    public async Task InitializeAsync(INudgeStore store, string? writeKey, string? adminKey, TimeProvider time, TextWriter console, CancellationToken cancellationToken)
    {
        _write = await EnsureAsync(store, "write", writeKey, time, console, cancellationToken);
        _admin = await EnsureAsync(store, "admin", adminKey, time, console, cancellationToken);
    }

    /// <summary>What the key may do; constant-time comparison against both hashes.</summary>
    public KeyKind Check(string? key)
    {
        if (string.IsNullOrEmpty(key)) return KeyKind.None;
        var hash = Hash(key);
        // Compare with both so timing does not reveal which kind matched first.
        var isWrite = CryptographicOperations.FixedTimeEquals(hash, _write);
        var isAdmin = CryptographicOperations.FixedTimeEquals(hash, _admin);
        return isAdmin ? KeyKind.Admin : isWrite ? KeyKind.Write : KeyKind.None;
    }

    private static async Task<byte[]> EnsureAsync(INudgeStore store, string kind, string? explicitKey, TimeProvider time, TextWriter console, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(explicitKey))
        {
            var hash = Hash(explicitKey);
            await store.SetKeyHashAsync(kind, Convert.ToHexString(hash), time.GetUtcNow(), cancellationToken);
            return hash;
        }

        if (await store.GetKeyHashAsync(kind, cancellationToken) is { } stored) return Convert.FromHexString(stored);

        var key = $"nudge_{kind}_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        var newHash = Hash(key);
        await store.SetKeyHashAsync(kind, Convert.ToHexString(newHash), time.GetUtcNow(), cancellationToken);
        await console.WriteLineAsync($"New {kind} key (shown once, stored hashed; set NUDGE_{kind.ToUpperInvariant()}_KEY to choose your own): {key}");
        return newHash;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
