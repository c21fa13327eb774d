namespace Nudge.Channels.Email;

/// <summary>Where and how email is sent.</summary>
public sealed record SmtpSettings
{
    /// <summary>The SMTP server.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Its port: 25 or 587 for STARTTLS, 465 for implicit TLS.</summary>
    public int Port { get; init; } = 25;

    /// <summary><c>none</c>, <c>starttls</c> (upgrade when offered... required when set) or <c>tls</c> (implicit TLS).</summary>
    public string Security { get; init; } = "none";

    /// <summary>Login name, or null for no authentication.</summary>
    public string? Username { get; init; }

    /// <summary>Password.</summary>
    public string? Password { get; init; }

    /// <summary>The sender, e.g. <c>"Shop &lt;news@shop.example&gt;"</c>.</summary>
    public string From { get; init; } = "Nudge <nudge@localhost>";

    /// <summary>Connections kept open to the server; each sends one message at a time.</summary>
    public int Connections { get; init; } = 4;

    /// <summary>Messages per second at most (0: no limit).</summary>
    public int RatePerSecond { get; init; }

    /// <summary>DKIM signing, or null.</summary>
    public DkimSettings? Dkim { get; init; }
}

/// <summary>DKIM signing key and identity.</summary>
/// <param name="Domain">The signing domain (d=).</param>
/// <param name="Selector">The selector (s=): the key is published at selector._domainkey.domain.</param>
/// <param name="PrivateKeyFile">A PEM file with the RSA private key.</param>
public sealed record DkimSettings(string Domain, string Selector, string PrivateKeyFile);
