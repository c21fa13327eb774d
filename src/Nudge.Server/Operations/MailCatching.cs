using Nudge.Channels.Email;

namespace Nudge.Server.Operations;

/// <summary>
/// <c>--catch-mail</c>: email goes to a mail catcher on loopback inside the engine instead of a real
/// server, and every message stays there for preview through <c>/api/mail</c>. A safe way to try
/// journeys and templates before connecting a real mail server.
/// </summary>
public static class MailCatching
{
    /// <summary>How many of the newest messages are kept for preview.</summary>
    public const int Keep = 10_000;

    /// <summary>SMTP settings that reach <paramref name="catcher"/>, keeping the configured sender if there is one.</summary>
    public static SmtpSettings Smtp(MailCatcher catcher, SmtpSettings? configured) => new()
    {
        Host = "127.0.0.1",
        Port = catcher.Port,
        Security = "none",
        From = configured?.From ?? new SmtpSettings().From,
        Connections = configured?.Connections ?? new SmtpSettings().Connections,
    };
}
