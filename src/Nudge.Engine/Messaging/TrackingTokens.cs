using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Nudge.Engine.Messaging;

/// <summary>What a tracking link does.</summary>
public enum TrackingKind : byte
{
    /// <summary>The open pixel.</summary>
    Open = (byte)'o',

    /// <summary>A link click: redirects to the URL recorded for that message and link.</summary>
    Click = (byte)'c',

    /// <summary>The unsubscribe page and its one-click POST.</summary>
    Unsubscribe = (byte)'u',
}

/// <summary>
/// Signed tokens for tracking links: message id, link number and kind, with an HMAC-SHA256 tag. A
/// token names a message and a link index, never a URL, so a click can only lead where the message
/// pointed, and any edit breaks the tag.
/// </summary>
/// <param name="key">The secret signing key (at least 32 bytes).</param>
public sealed class TrackingTokens(byte[] key)
{
    private const int PayloadLength = 1 + 8 + 2;
    private const int TagLength = 16;

    /// <summary>A token for a message's open pixel, unsubscribe link, or link number <paramref name="link"/>.</summary>
    public string Create(TrackingKind kind, long messageId, int link = 0)
    {
        Span<byte> bytes = stackalloc byte[PayloadLength + TagLength];
        bytes[0] = (byte)kind;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], messageId);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[9..], checked((ushort)link));
        Span<byte> tag = stackalloc byte[32];
        HMACSHA256.HashData(key, bytes[..PayloadLength], tag);
        tag[..TagLength].CopyTo(bytes[PayloadLength..]);
        return Base64Url.Encode(bytes);
    }

    /// <summary>Reads a token; false when it is malformed, of another kind, or its tag does not match.</summary>
    public bool TryRead(string token, TrackingKind kind, out long messageId, out int link)
    {
        messageId = 0;
        link = 0;
        Span<byte> bytes = stackalloc byte[64];
        if (token.Length > 64 || !Base64Url.TryDecode(token, bytes, out var length) || length != PayloadLength + TagLength) return false;
        Span<byte> tag = stackalloc byte[32];
        HMACSHA256.HashData(key, bytes[..PayloadLength], tag);
        if (!CryptographicOperations.FixedTimeEquals(tag[..TagLength], bytes[PayloadLength..(PayloadLength + TagLength)])) return false;
        if (bytes[0] != (byte)kind) return false;
        messageId = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        link = BinaryPrimitives.ReadUInt16BigEndian(bytes[9..]);
        return true;
    }

    /// <summary>A token that lets the shop's app read one customer's inbox: the id and its tag.</summary>
    public string ForCustomer(string customerId)
    {
        var id = System.Text.Encoding.UTF8.GetBytes(customerId);
        var tag = HMACSHA256.HashData(key, (byte[])[(byte)'i', .. id]);
        return Base64Url.Encode(id) + "." + Base64Url.Encode(tag.AsSpan(0, TagLength));
    }

    /// <summary>The customer an inbox token is for, or null when it is not genuine.</summary>
    public string? CustomerOf(string token)
    {
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || token.Length > 400) return null;
        Span<byte> id = stackalloc byte[300];
        Span<byte> given = stackalloc byte[TagLength + 2];
        if (!Base64Url.TryDecode(token[..dot], id, out var idLength) || !Base64Url.TryDecode(token[(dot + 1)..], given, out var tagLength) || tagLength != TagLength) return null;
        var tag = HMACSHA256.HashData(key, (byte[])[(byte)'i', .. id[..idLength]]);
        return CryptographicOperations.FixedTimeEquals(tag.AsSpan(0, TagLength), given[..TagLength]) ? System.Text.Encoding.UTF8.GetString(id[..idLength]) : null;
    }

    private static class Base64Url
    {
        public static string Encode(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

        public static bool TryDecode(string text, Span<byte> into, out int written)
        {
            written = 0;
            try
            {
                return System.Buffers.Text.Base64Url.TryDecodeFromChars(text, into, out written);
            }
            catch (FormatException)
            {
                return false; // an edited token is a refusal, not an error
            }
        }
    }
}
