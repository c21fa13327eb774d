using Nudge.Engine.Imports;

namespace Nudge.Engine.Tests.Imports;

public class CsvReaderTests
{
    [Fact]
    public void quoted_fields_with_commas_quotes_and_line_breaks_keep_line_numbers_right()
    {
        var csv = new CsvReader(new StringReader("\uFEFFid,note\r\n1,\"a, \"\"b\"\"\nc\"\r\n\r\n2,plain\n"));
        Assert.Equal(["id", "note"], csv.Read()!.Fields);
        var first = csv.Read()!;
        Assert.Equal((2L, "a, \"b\"\nc"), (first.Line, first.Fields[1]));
        var second = csv.Read()!;
        Assert.Equal((5L, "plain"), (second.Line, second.Fields[1]));
        Assert.Null(csv.Read());
    }

    [Fact]
    public void an_unclosed_quote_is_flagged_on_the_record_that_opened_it()
    {
        var csv = new CsvReader(new StringReader("id,note\n1,\"never closed\n2,x\n"));
        csv.Read();
        var broken = csv.Read()!;
        Assert.Equal((2L, true), (broken.Line, broken.UnclosedQuote));
        Assert.Null(csv.Read());
    }
}
