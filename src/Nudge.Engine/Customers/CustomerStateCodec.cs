using System.Text;
using Nudge.Engine.Rfm;

namespace Nudge.Engine.Customers;

/// <summary>
/// The stored form of a <see cref="CustomerState"/>: compact binary, versioned by its first byte, so a
/// full re-evaluation can read a million customers in about a second.
/// </summary>
public static class CustomerStateCodec
{
    private const byte FormatVersion = 1;

    /// <summary>Encodes a state.</summary>
    public static byte[] Encode(CustomerState s)
    {
        using var buffer = new MemoryStream(512);
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) Write(w, s);
        return buffer.ToArray();
    }

    /// <summary>Decodes a state written by <see cref="Encode"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a state this version can read.</exception>
    public static CustomerState Decode(ReadOnlySpan<byte> bytes)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        using var r = new BinaryReader(stream, Encoding.UTF8);
        var version = r.ReadByte();
        if (version != FormatVersion) throw new InvalidDataException($"Customer state format {version} is not known to this version of Nudge (expected {FormatVersion}).");
        try
        {
            return Read(r);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Customer state is truncated.", e);
        }
    }

    private static void Write(BinaryWriter w, CustomerState s)
    {
        w.Write(FormatVersion);
        w.Write(s.CustomerId);
        w.Write(s.Position);
        w.Write(s.DefinitionsVersion);
        Time(w, s.NextCheckAt);
        Many(w, s.LinkedIds, w.Write);

        var st = s.Stats;
        Time(w, st.FirstSeen);
        Time(w, st.LastSeen);
        w.Write(st.Sessions);
        w.Write(st.ProductViews);
        w.Write(st.CartAdds);
        Time(w, st.CartChangedAt);

        Many(w, s.Traits, t => { w.Write(t.Key); w.Write(t.Value.JsonValue); Time(w, t.Value.UpdatedAt); });
        Many(w, s.Cart, c => { w.Write(c.Key); w.Write(c.Value.Quantity); Money(w, c.Value.Price); Text(w, c.Value.Name); Text(w, c.Value.Category); });
        Many(w, s.Orders, o =>
        {
            w.Write(o.Key);
            Time(w, o.Value.At);
            w.Write(o.Value.Amount);
            w.Write(o.Value.Refunded);
            w.Write((byte)((o.Value.Cancelled ? 1 : 0) | (o.Value.UsedCoupon ? 2 : 0) | (o.Value.HasNewProduct ? 4 : 0)));
        });
        Many(w, s.Categories.Scores, p => { w.Write(p.Key); w.Write(p.Value); });
        Many(w, s.Brands.Scores, p => { w.Write(p.Key); w.Write(p.Value); });
        Many(w, s.Favourites, w.Write);
        Many(w, s.Engagement, p => { w.Write(p.Key); w.Write(p.Value); });
        w.Write(s.TrackersSignature);
        Many(w, s.Trackers, t => { w.Write(t.Key); w.Write(t.Value.Capacity); Many(w, t.Value.Times, at => Time(w, at)); });
        Many(w, s.Tags, t => { w.Write(t.Key); w.Write(t.Value.Value); Time(w, t.Value.Since); w.Write(t.Value.Custom); });
        Many(w, s.Segments, m => { w.Write(m.Key); Time(w, m.Value); });
        w.Write(s.Stage is not null);
        if (s.Stage is { } stage) { w.Write(stage.Name); Time(w, stage.Since); }
        w.Write(s.Rfm is not null);
        if (s.Rfm is { } rfm)
        {
            Text(w, rfm.RecencyBand); Text(w, rfm.FrequencyBand); Text(w, rfm.MonetaryBand);
            w.Write((byte)rfm.R); w.Write((byte)rfm.F); w.Write((byte)rfm.M);
            Text(w, rfm.Segment);
        }
    }

    private static CustomerState Read(BinaryReader r)
    {
        var s = new CustomerState(r.ReadString()) { Position = r.ReadInt64(), DefinitionsVersion = r.ReadInt64(), NextCheckAt = Time(r) };
        Repeat(r, () => s.LinkedIds.Add(r.ReadString()));
        var st = s.Stats;
        st.FirstSeen = Time(r);
        st.LastSeen = Time(r);
        st.Sessions = r.ReadInt32();
        st.ProductViews = r.ReadInt32();
        st.CartAdds = r.ReadInt32();
        st.CartChangedAt = Time(r);
        Repeat(r, () => s.Traits[r.ReadString()] = new TraitValue(r.ReadString(), Time(r)!.Value));
        Repeat(r, () => s.Cart[r.ReadString()] = new CartLine(r.ReadDecimal(), Money(r), Text(r), Text(r)));
        Repeat(r, () =>
        {
            var id = r.ReadString();
            var (at, amount, refunded, flags) = (Time(r)!.Value, r.ReadDecimal(), r.ReadDecimal(), r.ReadByte());
            s.Orders[id] = new OrderRecord(at, amount, refunded, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0);
        });
        st.Orders = OrderSummary.Of(s.Orders.Values);
        Repeat(r, () => s.Categories.Set(r.ReadString(), r.ReadInt32()));
        Repeat(r, () => s.Brands.Set(r.ReadString(), r.ReadInt32()));
        Repeat(r, () => s.Favourites.Add(r.ReadString()));
        Repeat(r, () => s.Engagement[r.ReadString()] = r.ReadInt32());
        s.TrackersSignature = r.ReadString();
        Repeat(r, () =>
        {
            var key = r.ReadString();
            var times = new RecentTimes(r.ReadInt32());
            Repeat(r, () => times.Add(Time(r)!.Value));
            s.Trackers[key] = times;
        });
        Repeat(r, () => s.Tags[r.ReadString()] = new TagValue(r.ReadString(), Time(r)!.Value, r.ReadBoolean()));
        Repeat(r, () => s.Segments[r.ReadString()] = Time(r)!.Value);
        if (r.ReadBoolean()) s.Stage = (r.ReadString(), Time(r)!.Value);
        if (r.ReadBoolean())
            s.Rfm = new RfmResult(Text(r), Text(r), Text(r), r.ReadByte(), r.ReadByte(), r.ReadByte(), Text(r));
        return s;
    }

    private static void Many<T>(BinaryWriter w, IEnumerable<T> items, Action<T> write)
    {
        var list = items as IReadOnlyCollection<T> ?? [.. items];
        w.Write7BitEncodedInt(list.Count);
        foreach (var item in list) write(item);
    }

    private static void Repeat(BinaryReader r, Action read)
    {
        var n = r.Read7BitEncodedInt();
        for (var i = 0; i < n; i++) read();
    }

    // Times are stored as Unix milliseconds, the precision of the event log; absent as long.MinValue.
    private static void Time(BinaryWriter w, DateTimeOffset? at) => w.Write(at?.ToUnixTimeMilliseconds() ?? long.MinValue);

    private static DateTimeOffset? Time(BinaryReader r) => r.ReadInt64() is var ms && ms == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static void Text(BinaryWriter w, string? text)
    {
        w.Write(text is not null);
        if (text is not null) w.Write(text);
    }

    private static string? Text(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void Money(BinaryWriter w, decimal? amount)
    {
        w.Write(amount is not null);
        if (amount is { } a) w.Write(a);
    }

    private static decimal? Money(BinaryReader r) => r.ReadBoolean() ? r.ReadDecimal() : null;
}
