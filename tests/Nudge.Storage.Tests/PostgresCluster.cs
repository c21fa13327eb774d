using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Nudge.Storage.Tests;

/// <summary>
/// A throwaway PostgreSQL 15 cluster from the machine's binaries: initdb into a temp directory, start
/// on a free loopback port, delete everything on dispose. initdb refuses to run as root, so as root the
/// cluster runs as the postgres system user.
/// </summary>
public sealed class PostgresCluster : IAsyncLifetime
{
    /// <summary>
    /// fsync on, as PostgreSQL ships (benchmarks). Off by default: the tests' throwaway cluster need not
    /// survive a power cut.
    /// </summary>
    public bool Durable { get; init; }

    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "nudge-pg-" + Guid.NewGuid().ToString("N")[..8]);
    private int _port;

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={_port};Username=postgres;Database={database};Pooling=true;Timeout=15";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
            throw new InvalidOperationException($"PostgreSQL 15 binaries are missing from {BinDirectory}: install postgresql-15 (test.sh does).");
        Directory.CreateDirectory(_directory);
        var asRoot = Environment.UserName == "root";
        if (asRoot) await RunAsync("chown", "postgres:postgres", _directory);
        _port = FreePort();
        var data = Path.Combine(_directory, "data");
        await Pg("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync");
        // Benchmarks measure a durable cluster (PostgreSQL's defaults); the tests skip fsync for speed.
        var settings = Durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        await Pg("pg_ctl", "-D", data, "-l", Path.Combine(_directory, "log"), "-w", "-t", "60", "start",
            "-o", $"-p {_port} -k {_directory} -c listen_addresses=127.0.0.1{settings}");

        Task Pg(string tool, params string[] args) => asRoot
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, tool), .. args])
            : RunAsync(Path.Combine(BinDirectory, tool), args);
    }

    public async Task CreateDatabaseAsync(string name)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString());
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        var data = Path.Combine(_directory, "data");
        var stop = Environment.UserName == "root"
            ? RunAsync("runuser", "-u", "postgres", "--", Path.Combine(BinDirectory, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
            : RunAsync(Path.Combine(BinDirectory, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop");
        try { await stop; } catch (InvalidOperationException) { }
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }
}
