namespace Nudge.Engine.Segments;

/// <summary>Numeric comparison operators.</summary>
public enum CompareOp
{
    /// <summary>equal</summary>
    Eq,
    /// <summary>not equal</summary>
    Ne,
    /// <summary>greater than</summary>
    Gt,
    /// <summary>greater than or equal</summary>
    Gte,
    /// <summary>less than</summary>
    Lt,
    /// <summary>less than or equal</summary>
    Lte,
}

/// <summary>One or more numeric tests that must all hold, e.g. <c>{"gte": 300, "lt": 1000}</c>.</summary>
/// <param name="Tests">(operator, operand) pairs.</param>
public sealed record Comparison((CompareOp Op, double Operand)[] Tests)
{
    /// <summary>JSON names of the operators.</summary>
    public static readonly IReadOnlyDictionary<string, CompareOp> Names = new Dictionary<string, CompareOp>(StringComparer.Ordinal)
    {
        ["eq"] = CompareOp.Eq, ["ne"] = CompareOp.Ne, ["gt"] = CompareOp.Gt,
        ["gte"] = CompareOp.Gte, ["lt"] = CompareOp.Lt, ["lte"] = CompareOp.Lte,
    };

    /// <summary>Whether <paramref name="value"/> passes every test.</summary>
    public bool Holds(double value)
    {
        foreach (var (op, operand) in Tests)
        {
            var holds = op switch
            {
                CompareOp.Eq => value == operand,
                CompareOp.Ne => value != operand,
                CompareOp.Gt => value > operand,
                CompareOp.Gte => value >= operand,
                CompareOp.Lt => value < operand,
                CompareOp.Lte => value <= operand,
                _ => false,
            };
            if (!holds) return false;
        }

        return true;
    }

    /// <summary>The largest operand: counters must keep one more occurrence than this to compare exactly.</summary>
    public double MaxOperand => Tests.Max(t => t.Operand);
}
