using System.Buffers;
using System.IO.Compression;

namespace Nudge.Server.Ingestion;

/// <summary>
/// Reads a request body into a pooled buffer, decompressing gzip, and stops one byte past the limit:
/// memory per request is bounded by the limit whatever the sender claims or sends.
/// </summary>
public sealed class RequestBody : IDisposable
{
    private byte[]? _buffer;

    private RequestBody(byte[] buffer, int length, string? error)
    {
        _buffer = buffer;
        Length = length;
        Error = error;
    }

    public int Length { get; }

    /// <summary>Why the body cannot be used (too large, corrupt gzip), or null.</summary>
    public string? Error { get; }

    public ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    public static async Task<RequestBody> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return new RequestBody([], 0, $"Content-Encoding '{encoding}' is not supported; send gzip or an uncompressed body.");
        if (!gzip && request.ContentLength > limit)
            return new RequestBody([], 0, TooLarge(request.ContentLength.Value, limit));

        // Content-Length is the sender's claim (and for gzip the compressed size): a first guess, capped by the limit.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1L, (request.ContentLength ?? 64 * 1024) + 1L));
        var length = 0;
        var source = gzip ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true) : request.Body;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit) break;
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await source.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken);
                if (read == 0) break;
                length += read;
                if (length > limit) break;
            }
        }
        catch (InvalidDataException)
        {
            return new RequestBody(buffer, 0, "The body is declared gzip but is not valid gzip data.");
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer); // the sender went away mid-body, or the read was cancelled
            throw;
        }
        finally
        {
            if (gzip) await source.DisposeAsync();
        }

        return length > limit
            ? new RequestBody(buffer, 0, TooLarge(null, limit))
            : new RequestBody(buffer, length, null);
    }

    private static string TooLarge(long? size, int limit) =>
        size is long s ? $"The body is {s} bytes; the limit is {limit} bytes." : $"The body is larger than the limit of {limit} bytes.";

    public void Dispose()
    {
        if (_buffer is { Length: > 0 } buffer) ArrayPool<byte>.Shared.Return(buffer);
        _buffer = null;
    }
}
