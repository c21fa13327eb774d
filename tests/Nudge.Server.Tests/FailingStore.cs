using System.Reflection;
using Nudge.Storage;

namespace Nudge.Server.Tests;

/// <summary>The real store, with the n-th call of one of its methods failing as a full disk would.</summary>
public class FailingStore : DispatchProxy
{
    private INudgeStore _inner = null!;
    private string _method = "";
    private int _failOnCall, _calls;

    /// <summary>Wraps <paramref name="inner"/> so that call number <paramref name="failOnCall"/> of <paramref name="method"/> fails.</summary>
    public static INudgeStore Wrap(INudgeStore inner, string method, int failOnCall)
    {
        var store = Create<INudgeStore, FailingStore>();
        var failing = (FailingStore)(object)store;
        (failing._inner, failing._method, failing._failOnCall) = (inner, method, failOnCall);
        return store;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        if (targetMethod!.Name != _method || Interlocked.Increment(ref _calls) != _failOnCall) return targetMethod.Invoke(_inner, args);
        var failure = new IOException("disk full");
        var returns = targetMethod.ReturnType;
        if (!returns.IsGenericType) return Task.FromException(failure);
        var fromException = typeof(Task).GetMethods().Single(m => m.Name == nameof(Task.FromException) && m.IsGenericMethod);
        return fromException.MakeGenericMethod(returns.GetGenericArguments()[0]).Invoke(null, [failure]);
    }
}
