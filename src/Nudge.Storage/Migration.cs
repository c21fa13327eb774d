namespace Nudge.Storage;

/// <summary>A versioned schema change. Versions are applied in order, each once, recorded in <c>schema_migrations</c>.</summary>
/// <param name="Version">1, 2, 3... never reused or reordered once released.</param>
/// <param name="Name">What it does, shown when applied.</param>
/// <param name="Sql">Statements, separated by semicolons.</param>
public sealed record Migration(int Version, string Name, string Sql);
