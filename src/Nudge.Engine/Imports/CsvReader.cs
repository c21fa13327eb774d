using System.Text;

namespace Nudge.Engine.Imports;

/// <summary>One CSV record and the line it starts on (1-based, counting the header).</summary>
/// <param name="Line">Line number in the file where the record starts.</param>
/// <param name="Fields">The record's fields, unquoted.</param>
/// <param name="UnclosedQuote">The file ended inside a quoted field: the record swallowed everything after its opening quote.</param>
public sealed record CsvRecord(long Line, string[] Fields, bool UnclosedQuote = false);

/// <summary>
/// An RFC 4180 reader: comma-separated, double-quoted fields with "" escapes and line breaks inside
/// quotes, LF or CRLF, an optional UTF-8 BOM. Tracks line numbers so rejected rows can be named.
/// </summary>
public sealed class CsvReader(TextReader reader, char separator = ',')
{
    private long _line = 1;

    /// <summary>The next record, or null at the end of the file. Blank lines are skipped.</summary>
    public CsvRecord? Read()
    {
        while (true)
        {
            var start = _line;
            List<string> fields = [];
            var field = new StringBuilder();
            bool quoted = false, any = false;
            int c;
            while ((c = Next()) != -1)
            {
                any = true;
                var ch = (char)c;
                if (quoted)
                {
                    if (ch == '"')
                    {
                        if (reader.Peek() == '"') { Next(); field.Append('"'); }
                        else quoted = false;
                    }
                    else
                    {
                        if (ch == '\n') _line++;
                        field.Append(ch);
                    }

                    continue;
                }

                if (ch == '"' && field.Length == 0) quoted = true;
                else if (ch == separator) { fields.Add(field.ToString()); field.Clear(); }
                else if (ch == '\r' && reader.Peek() == '\n') continue;
                else if (ch == '\n') { _line++; break; }
                else field.Append(ch);
            }

            if (!any) return null;
            fields.Add(field.ToString());
            if (fields.Count == 1 && fields[0].Length == 0) continue;
            if (start == 1 && fields[0].Length > 0 && fields[0][0] == '\uFEFF') fields[0] = fields[0][1..];
            return new CsvRecord(start, [.. fields], quoted);
        }
    }

    private int Next() => reader.Read();
}
