namespace Nudge.Cli.Tests;

/// <summary>Tests that capture <see cref="Console.Error"/>, which is process-wide: they run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection))]
public sealed class ConsoleCollection;
