namespace Nudge.Channels.Sms;

/// <summary>
/// An SMS provider. <c>format</c> picks the request shape: <c>generic</c> (a JSON POST whose body is
/// <see cref="Body"/> with <c>{to}</c>, <c>{text}</c> and <c>{id}</c> filled in), <c>twilio</c> or <c>aliyun</c>.
/// </summary>
public sealed record SmsSettings
{
    /// <summary><c>generic</c>, <c>twilio</c> or <c>aliyun</c>.</summary>
    public string Format { get; init; } = "generic";

    /// <summary>The endpoint: the generic provider's URL; for Twilio and Aliyun their API base (defaults to the real one).</summary>
    public string? Url { get; init; }

    /// <summary>Generic: headers to send (e.g. Authorization).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Generic: the JSON body with <c>{to}</c>, <c>{text}</c> and <c>{id}</c> placeholders (filled JSON-escaped).</summary>
    public string Body { get; init; } = """{"to":"{to}","text":"{text}","id":"{id}"}""";

    /// <summary>Twilio: Account SID; Aliyun: AccessKey ID.</summary>
    public string? AccountId { get; init; }

    /// <summary>Twilio: Auth token; Aliyun: AccessKey secret.</summary>
    public string? Secret { get; init; }

    /// <summary>Twilio: the sending number or messaging service SID (MG…); Aliyun: the approved signature (SignName).</summary>
    public string? Sender { get; init; }

    /// <summary>Aliyun: the approved template code whose text is <c>${content}</c>; the rendered message fills it.</summary>
    public string? TemplateCode { get; init; }

    /// <summary>
    /// The secret that receipt and reply callbacks must carry (<c>?key=</c>): without it they are refused,
    /// since a forged STOP would unsubscribe a customer.
    /// </summary>
    public string? CallbackKey { get; init; }

    /// <summary>Where providers post delivery receipts (Twilio StatusCallback); set by the server from its public URL.</summary>
    public string? ReceiptUrl { get; init; }

    /// <summary>Messages per second at most (0: no limit).</summary>
    public int RatePerSecond { get; init; }
}
