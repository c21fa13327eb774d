using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;

namespace Nudge.Server.Operations;

/// <summary>Data classes of values that must not reach logs in clear.</summary>
public static class NudgeData
{
    public static DataClassification Personal { get; } = new("Nudge", "Personal");
}

/// <summary>
/// Marks a log parameter as personal data (an email, a phone number, a customer id that may be one, a
/// key): it is written as a short one-way hash, so log lines still correlate without revealing it.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property)]
public sealed class PersonalDataAttribute() : DataClassificationAttribute(NudgeData.Personal);

/// <summary>
/// Replaces a value with <c>#</c> and 8 hex digits of its HMAC-SHA256 under a key drawn at start-up:
/// the same value gives the same tag for the life of the process, so log lines correlate, but a tag
/// cannot be reversed by hashing candidate phone numbers or emails.
/// </summary>
public sealed class HashPrefixRedactor : Redactor
{
    private const int Length = 9;
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    public override int GetRedactedLength(ReadOnlySpan<char> input) => Length;

    public override int Redact(ReadOnlySpan<char> source, Span<char> destination)
    {
        Span<byte> hash = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(source.ToArray());
        HMACSHA256.HashData(Key, bytes, hash);
        destination[0] = '#';
        Convert.ToHexStringLower(hash[..4]).AsSpan().CopyTo(destination[1..]);
        return Length;
    }
}
