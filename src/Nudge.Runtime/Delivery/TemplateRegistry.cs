using System.Text.Json;
using Nudge.Engine.Messaging.Templates;
using Nudge.Storage;

namespace Nudge.Runtime.Delivery;

/// <summary>The templates in force: loaded from the store, changed only as a whole that checks out.</summary>
public sealed class TemplateRegistry(INudgeStore store, DeliverySettings settings, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _changes = new(1, 1);
    private TemplateCatalog? _current;

    /// <summary>The current catalog (empty until loaded).</summary>
    public TemplateCatalog Current => _current ?? new TemplateCatalog([], settings.DefaultLocale);

    /// <summary>Loads the stored templates.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        List<MessageTemplate> templates = [];
        foreach (var stored in await store.LoadTemplatesAsync(cancellationToken))
        {
            using var doc = JsonDocument.Parse(stored.Json);
            var (template, _) = TemplateParser.Parse(doc.RootElement, stored.Id);
            if (template is not null) templates.Add(template);
        }

        _current = new TemplateCatalog(templates, settings.DefaultLocale);
    }

    /// <summary>Checks and saves a template; the errors say what is wrong when it is refused.</summary>
    public async Task<(MessageTemplate? Template, List<TemplateError> Errors)> PutAsync(string id, JsonElement document, CancellationToken cancellationToken)
    {
        var (template, errors) = TemplateParser.Parse(document, id);
        if (template is null) return (null, errors);
        await _changes.WaitAsync(cancellationToken);
        try
        {
            var next = Current.With(template);
            // Only problems this change brings count: a catalog stored by an older build may have its own.
            var before = Current.Check().Select(e => e.ToString()).ToHashSet();
            errors = [.. next.Check().Where(e => !before.Contains(e.ToString()))];
            if (errors.Count > 0) return (null, errors);
            await store.PutTemplateAsync(new StoredTemplate(template.Id, document.GetRawText(), time.GetUtcNow()), cancellationToken);
            _current = next;
            return (template, errors);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Deletes a template unless others use it; the error names who.</summary>
    public async Task<(bool Found, string? InUseBy)> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _changes.WaitAsync(cancellationToken);
        try
        {
            if (!Current.Templates.ContainsKey(id)) return (false, null);
            var next = Current.Without(id);
            var before = Current.Check().Select(e => e.ToString()).ToHashSet();
            if (next.Check().FirstOrDefault(e => !before.Contains(e.ToString())) is { } broken) return (true, broken.ToString());
            await store.DeleteTemplateAsync(id, cancellationToken);
            _current = next;
            return (true, null);
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _changes.Dispose();
}
