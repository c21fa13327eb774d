using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Nudge.Engine.Journeys;
using Nudge.Engine.Rfm;

namespace Nudge.Engine.Customers;

/// <summary>
/// The stored form of a <see cref="CustomerState"/>: compact binary, versioned by its first byte.
/// Encoding runs after every change of every active customer and decoding once per activation and
/// per customer in a full re-evaluation, so both work on spans without per-field allocations.
/// </summary>
public static class CustomerStateCodec
{
    // 2 added journey instances at the end; states in format 1 read as having none.
    private const byte FormatVersion = 2;
    private const byte FormatWithoutJourneys = 1;

    // Encoding goes through a buffer kept per thread, so only the exact result is allocated, not a
    // buffer that grows by doubling first. A buffer grown past this is not kept.
    [ThreadStatic] private static byte[]? t_scratch;
    private const int MaxScratch = 64 * 1024;

    /// <summary>Encodes a state.</summary>
    public static byte[] Encode(CustomerState s)
    {
        var w = new Writer(t_scratch ?? new byte[4096]);
        w.Byte(FormatVersion);
        w.Text(s.CustomerId);
        w.Int64(s.Position);
        w.Int64(s.DefinitionsVersion);
        w.Time(s.NextCheckAt);
        w.Count(s.LinkedIds.Count);
        foreach (var id in s.LinkedIds) w.Text(id);

        var st = s.Stats;
        w.Time(st.FirstSeen);
        w.Time(st.LastSeen);
        w.Count(st.Sessions);
        w.Count(st.ProductViews);
        w.Count(st.CartAdds);
        w.Time(st.CartChangedAt);

        w.Count(s.Traits.Count);
        foreach (var (name, trait) in s.Traits) { w.Text(name); w.Text(trait.JsonValue); w.Time(trait.UpdatedAt); }
        w.Count(s.Cart.Count);
        foreach (var (id, line) in s.Cart) { w.Text(id); w.Decimal(line.Quantity); w.Money(line.Price); w.OptionalText(line.Name); w.OptionalText(line.Category); }
        w.Count(s.Orders.Count);
        foreach (var (id, o) in s.Orders)
        {
            w.Text(id);
            w.Time(o.At);
            w.Decimal(o.Amount);
            w.Decimal(o.Refunded);
            w.Byte((byte)((o.Cancelled ? 1 : 0) | (o.UsedCoupon ? 2 : 0) | (o.HasNewProduct ? 4 : 0)));
        }

        w.Count(s.Categories.Count);
        foreach (var (key, score) in s.Categories.Entries()) { w.Text(key); w.Count(score); }
        w.Count(s.Brands.Count);
        foreach (var (key, score) in s.Brands.Entries()) { w.Text(key); w.Count(score); }
        w.Count(s.Favourites.Count);
        foreach (var id in s.Favourites) w.Text(id);
        w.Count(s.Engagement.Count);
        foreach (var (channel, score) in s.Engagement) { w.Text(channel); w.Count(score); }
        w.Int64(s.TrackersSignature);
        w.Count(s.Trackers.Count);
        foreach (var (key, times) in s.Trackers)
        {
            w.Text(key);
            w.Count(times.Capacity);
            w.Count(times.Count);
            for (var i = 0; i < times.Count; i++) w.Int64(times.Milliseconds(i));
        }

        w.Count(s.Tags.Count);
        foreach (var (name, tag) in s.Tags) { w.Text(name); w.Text(tag.Value); w.Time(tag.Since); w.Byte(tag.Custom ? (byte)1 : (byte)0); }
        w.Count(s.Segments.Count);
        foreach (var (id, since) in s.Segments) { w.Text(id); w.Time(since); }
        w.Byte(s.Stage is null ? (byte)0 : (byte)1);
        if (s.Stage is { } stage) { w.Text(stage.Name); w.Time(stage.Since); }
        w.Byte(s.Rfm is null ? (byte)0 : (byte)1);
        if (s.Rfm is { } rfm)
        {
            w.OptionalText(rfm.RecencyBand); w.OptionalText(rfm.FrequencyBand); w.OptionalText(rfm.MonetaryBand);
            w.Byte((byte)rfm.R); w.Byte((byte)rfm.F); w.Byte((byte)rfm.M);
            w.OptionalText(rfm.Segment);
        }

        WriteJourneys(ref w, s);
        if (w.Buffer.Length <= MaxScratch) t_scratch = w.Buffer;
        return w.ToArray();
    }

    /// <summary>Decodes a state written by <see cref="Encode"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a state this version can read.</exception>
    public static CustomerState Decode(ReadOnlySpan<byte> bytes) => Decode(bytes, StateParts.All);

    /// <summary>
    /// Decodes only some parts of a state, for readers that look at no others: conditions
    /// (<see cref="Segments.Condition.Reads"/>), delivery, reports. The parts left out are empty, so the
    /// result must never be written back. Linked ids are decoded only with <see cref="StateParts.All"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not a state this version can read.</exception>
    public static CustomerState Decode(ReadOnlySpan<byte> bytes, StateParts parts)
    {
        if (bytes.Length == 0 || bytes[0] is not (FormatVersion or FormatWithoutJourneys))
            throw new InvalidDataException($"Customer state format {(bytes.Length == 0 ? "(empty)" : bytes[0])} is not known to this version of Nudge (expected {FormatVersion}).");
        try
        {
            var r = new Reader(bytes[1..]);
            var s = Read(ref r, parts);
            if (bytes[0] == FormatVersion && parts.HasFlag(StateParts.Journeys)) ReadJourneys(ref r, s);
            return s;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            throw new InvalidDataException("Customer state is truncated.", e);
        }
    }

    /// <summary>The customer id of an encoded state, without decoding the rest.</summary>
    public static string CustomerId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0 || bytes[0] is not (FormatVersion or FormatWithoutJourneys)) throw new InvalidDataException("Not a customer state this version of Nudge can read.");
        var r = new Reader(bytes[1..]);
        return r.Text();
    }

    private static CustomerState Read(ref Reader r, StateParts parts)
    {
        var s = new CustomerState(r.Text()) { Position = r.Int64(), DefinitionsVersion = r.Int64(), NextCheckAt = r.Time() };
        for (var n = r.Count(); n > 0; n--)
        {
            if (parts == StateParts.All) s.LinkedIdsForUpdate.Add(r.Text());
            else r.SkipText();
        }

        var st = s.Stats;
        st.FirstSeen = r.Time();
        st.LastSeen = r.Time();
        st.Sessions = r.Count();
        st.ProductViews = r.Count();
        st.CartAdds = r.Count();
        st.CartChangedAt = r.Time();

        // Each part left out is still walked over, field by field, but nothing is allocated for it.
        var count = r.Count();
        if (parts.HasFlag(StateParts.Traits))
        {
            s.Traits.EnsureCapacity(count);
            for (var n = count; n > 0; n--) s.Traits[r.Name()] = new TraitValue(r.Text(), r.Time()!.Value);
        }
        else
        {
            for (var n = count; n > 0; n--) r.Skip(texts: 2, bytes: 8);
        }

        count = r.Count();
        if (parts.HasFlag(StateParts.Cart) && count > 0)
        {
            s.CartForUpdate.EnsureCapacity(count);
            for (var n = count; n > 0; n--) s.CartForUpdate[r.Name()] = new CartLine(r.Decimal(), r.Money(), r.OptionalText(), r.OptionalName());
        }
        else
        {
            for (var n = count; n > 0; n--)
            {
                r.Skip(texts: 1, bytes: 16);
                r.SkipMoney();
                r.SkipOptionalText();
                r.SkipOptionalText();
            }
        }

        count = r.Count();
        if (parts.HasFlag(StateParts.Orders) && count > 0)
        {
            s.OrdersForUpdate.EnsureCapacity(count);
            for (var n = count; n > 0; n--)
            {
                var id = r.Text();
                var (at, amount, refunded, flags) = (r.Time()!.Value, r.Decimal(), r.Decimal(), r.Byte());
                s.OrdersForUpdate[id] = new OrderRecord(at, amount, refunded, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0);
            }

            st.Orders = OrderSummary.Of(s.Orders.Values);
        }
        else
        {
            for (var n = count; n > 0; n--) r.Skip(texts: 1, bytes: 8 + 16 + 16 + 1);
        }

        ReadAffinity(ref r, s.Categories, parts.HasFlag(StateParts.Categories));
        ReadAffinity(ref r, s.Brands, parts.HasFlag(StateParts.Brands));
        count = r.Count();
        for (var n = count; n > 0; n--)
        {
            if (parts.HasFlag(StateParts.Favourites)) s.FavouritesForUpdate.Add(r.Text());
            else r.SkipText();
        }

        count = r.Count();
        for (var n = count; n > 0; n--)
        {
            if (parts.HasFlag(StateParts.Engagement)) s.EngagementForUpdate[r.Name()] = r.Count();
            else r.Skip(texts: 1, counts: 1);
        }

        s.TrackersSignature = r.Int64();
        count = r.Count();
        var trackers = parts.HasFlag(StateParts.Trackers);
        if (trackers) s.Trackers.EnsureCapacity(count);
        for (var n = count; n > 0; n--)
        {
            if (!trackers)
            {
                r.Skip(texts: 1, counts: 1);
                r.Skip(bytes: 8 * r.Count());
                continue;
            }

            var key = r.Name();
            var capacity = r.Count();
            var stored = r.Count();
            var times = new RecentTimes(capacity, stored);
            for (var t = stored; t > 0; t--) times.Add(DateTimeOffset.FromUnixTimeMilliseconds(r.Int64()));
            s.Trackers[key] = times;
        }

        count = r.Count();
        var tags = parts.HasFlag(StateParts.Tags);
        if (tags) s.Tags.EnsureCapacity(count);
        for (var n = count; n > 0; n--)
        {
            if (tags) s.Tags[r.Name()] = new TagValue(r.Name(), r.Time()!.Value, r.Byte() == 1);
            else r.Skip(texts: 2, bytes: 8 + 1);
        }

        count = r.Count();
        var segments = parts.HasFlag(StateParts.Segments);
        if (segments) s.Segments.EnsureCapacity(count);
        for (var n = count; n > 0; n--)
        {
            if (segments) s.Segments[r.Name()] = r.Time()!.Value;
            else r.Skip(texts: 1, bytes: 8);
        }

        if (r.Byte() == 1) s.Stage = (r.Name(), r.Time()!.Value);
        if (r.Byte() == 1) s.Rfm = new RfmResult(r.OptionalName(), r.OptionalName(), r.OptionalName(), r.Byte(), r.Byte(), r.Byte(), r.OptionalName());
        return s;
    }

    private static void ReadAffinity(ref Reader r, Affinity affinity, bool wanted)
    {
        var count = r.Count();
        if (wanted) affinity.Reserve(count);
        for (var n = count; n > 0; n--)
        {
            if (wanted) affinity.Set(r.Name(), r.Count());
            else r.Skip(texts: 1, counts: 1);
        }
    }

    private static void WriteJourneys(ref Writer w, CustomerState s)
    {
        w.Int64(s.InstancesStarted);
        w.Count(s.JourneyEntries.Count);
        foreach (var (id, entry) in s.JourneyEntries) { w.Text(id); w.Time(entry.LastEnteredAt); w.Count(entry.Entries); w.Time(entry.LastOccurrence); }
        w.Count(s.Journeys.Count);
        foreach (var i in s.Journeys)
        {
            w.Int64(i.Number);
            w.Text(i.Trigger);
            w.Text(i.JourneyId);
            w.Count(i.Version);
            w.Text(i.StepId);
            w.Time(i.EnteredAt);
            w.Time(i.StepSince);
            w.Time(i.WakeAt);
            w.OptionalText(i.TriggerJson);
            w.Count(i.Counts.Count);
            foreach (var (key, count) in i.Counts) { w.Text(key); w.Count(count); }
        }
    }

    private static void ReadJourneys(ref Reader r, CustomerState s)
    {
        s.InstancesStarted = r.Int64();
        for (var n = r.Count(); n > 0; n--) s.JourneyEntries[r.Name()] = new JourneyEntry(r.Time()!.Value, r.Count(), r.Time());
        for (var n = r.Count(); n > 0; n--)
        {
            var instance = new JourneyInstance
            {
                Number = r.Int64(), Trigger = r.Text(), JourneyId = r.Name(), Version = r.Count(), StepId = r.Name(), EnteredAt = r.Time()!.Value,
                StepSince = r.Time()!.Value, WakeAt = r.Time(), TriggerJson = r.OptionalText(),
            };
            for (var c = r.Count(); c > 0; c--) instance.Counts[r.Name()] = r.Count();
            s.JourneysForUpdate.Add(instance);
        }
    }

    private ref struct Writer(byte[] buffer)
    {
        private byte[] _buffer = buffer;
        private int _length;

        /// <summary>The buffer written into: the one given, or a larger one that replaced it.</summary>
        public readonly byte[] Buffer => _buffer;

        public readonly byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        private Span<byte> Take(int count)
        {
            if (_length + count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
            var span = _buffer.AsSpan(_length, count);
            _length += count;
            return span;
        }

        public void Byte(byte value) => Take(1)[0] = value;

        public void Count(int value)
        {
            var v = (uint)value;
            while (v >= 0x80)
            {
                Byte((byte)(v | 0x80));
                v >>= 7;
            }

            Byte((byte)v);
        }

        public void Int64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

        // Times are stored as Unix milliseconds, the precision of the event log; absent as long.MinValue.
        public void Time(DateTimeOffset? at) => Int64(at?.ToUnixTimeMilliseconds() ?? long.MinValue);

        public void Decimal(decimal value)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            var span = Take(16);
            for (var i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], bits[i]);
        }

        public void Money(decimal? value)
        {
            Byte(value is null ? (byte)0 : (byte)1);
            if (value is { } v) Decimal(v);
        }

        public void Text(string value)
        {
            var bytes = Encoding.UTF8.GetByteCount(value);
            Count(bytes);
            Encoding.UTF8.GetBytes(value, Take(bytes));
        }

        public void OptionalText(string? value)
        {
            Byte(value is null ? (byte)0 : (byte)1);
            if (value is not null) Text(value);
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        // An index into the span rather than re-slicing it: decoding reads a few hundred small fields.
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        private ReadOnlySpan<byte> Take(int count)
        {
            var span = _bytes.Slice(_at, count);
            _at += count;
            return span;
        }

        public byte Byte() => _bytes[_at++];

        public int Count()
        {
            // Nearly every count and length is under 128: one byte.
            var first = _bytes[_at++];
            if (first < 0x80) return first;
            uint value = first & 0x7Fu;
            for (var shift = 7; shift < 35; shift += 7)
            {
                var b = _bytes[_at++];
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80) return (int)value;
            }

            throw new InvalidDataException("Customer state has a malformed number.");
        }

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public DateTimeOffset? Time() => Int64() is var ms && ms == long.MinValue ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms);

        public decimal Decimal()
        {
            var span = Take(16);
            Span<int> bits = [BinaryPrimitives.ReadInt32LittleEndian(span), BinaryPrimitives.ReadInt32LittleEndian(span[4..]),
                BinaryPrimitives.ReadInt32LittleEndian(span[8..]), BinaryPrimitives.ReadInt32LittleEndian(span[12..])];
            return new decimal(bits);
        }

        public decimal? Money() => Byte() == 1 ? Decimal() : null;

        public string Text() => Encoding.UTF8.GetString(Take(Count()));

        public string Name() => SharedNames.Share(Take(Count()));

        public string? OptionalText() => Byte() == 1 ? Text() : null;

        /// <summary>Steps over texts, then counts, then fixed-size bytes, in that order.</summary>
        public void Skip(int texts = 0, int counts = 0, int bytes = 0)
        {
            for (var i = 0; i < texts; i++) SkipText();
            for (var i = 0; i < counts; i++) Count();
            Advance(bytes);
        }

        public void SkipText() => Advance(Count());

        public void SkipOptionalText()
        {
            if (Byte() == 1) SkipText();
        }

        public void SkipMoney() => Advance(Byte() == 1 ? 16 : 0);

        private void Advance(int count)
        {
            _at += count;
            ArgumentOutOfRangeException.ThrowIfGreaterThan(_at, _bytes.Length);
        }

        public string? OptionalName() => Byte() == 1 ? Name() : null;
    }
}
