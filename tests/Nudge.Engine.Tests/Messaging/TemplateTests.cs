using System.Text.Json;
using Nudge.Engine.Messaging;
using Nudge.Engine.Messaging.Templates;

namespace Nudge.Engine.Tests.Messaging;

public class TemplateTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 4, 0, 0, TimeSpan.Zero);
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");

    private static MessageTemplate Parse(string json)
    {
        var (template, errors) = TemplateParser.Parse(JsonDocument.Parse(json).RootElement);
        Assert.True(template is not null, string.Join("; ", errors));
        return template;
    }

    private static TemplateCatalog Catalog(params string[] json)
    {
        var catalog = new TemplateCatalog(json.Select(Parse), "zh-CN");
        Assert.Empty(catalog.Check());
        return catalog;
    }

    private static readonly string Layout = """{"id": "default", "kind": "layout", "locales": {"en": {"html": "<html><body><h1>Shop</h1>{{ content }}</body></html>"}}}""";
    private static readonly string Footer = """{"id": "footer", "kind": "partial", "locales": {"en": {"body": "<p>Bye {{ customer.first_name }}</p>"}, "zh-CN": {"body": "<p>再见</p>"}}}""";
    private static readonly string Cart = """
        {"id": "cart", "layout": "default", "locales": {
          "en": {"subject": "{{ customer.first_name }}, your cart is waiting",
                 "html": "{% for item in cart.items %}<li>{{ item.name }}: {{ item.price | money }}</li>{% endfor %}{% include 'footer' %}",
                 "sms": "Cart of {{ cart.items | size }} items, {{ cart.total | money: 'USD' }}. Sent {{ 'now' | local_date: 'yyyy-MM-dd HH:mm' }}"},
          "zh-CN": {"subject": "{{ customer.first_name }}，购物车还在等您", "html": "<p>共 {{ cart.items | size }} 件</p>{% include 'footer' %}"}}}
        """;

    private static RenderRequest Request(string channel, string? locale, string firstName = "Ada") => new("cart", channel, locale, Shanghai, "CNY", Now,
        new Dictionary<string, object?>
        {
            ["customer"] = new Dictionary<string, object?> { ["first_name"] = firstName },
            ["cart"] = new Dictionary<string, object?>
            {
                ["total"] = 1299.5m,
                ["items"] = new List<object?> { new Dictionary<string, object?> { ["name"] = "Stroller", ["price"] = 1299.5m } },
            },
        });

    [Fact]
    public void rendering_a_missing_variable_again_and_again_keeps_nothing()
    {
        // DotLiquid records each missing variable in the render context; the reused context once kept them all.
        var catalog = Catalog(Layout, Footer, Cart);
        var request = Request(ChannelNames.Email, "en") with { Model = new Dictionary<string, object?>() };
        catalog.Render(request);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 40_000; i++) catalog.Render(request);
        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;
        // Other tests run alongside, so the bound is loose: keeping the errors would grow by about 30 MB.
        Assert.True(grown < 5_000_000, $"{grown:N0} bytes kept after 40,000 renders");
    }

    [Fact]
    public void email_renders_the_customers_locale_inside_the_layout_with_partials_and_a_text_alternative()
    {
        var rendered = Catalog(Layout, Footer, Cart).Render(Request(ChannelNames.Email, "en-US"));
        Assert.Equal("en", rendered.Locale);
        Assert.Equal("Ada, your cart is waiting", rendered.Subject);
        Assert.Equal("<html><body><h1>Shop</h1><li>Stroller: ¥1,299.50</li><p>Bye Ada</p></body></html>", rendered.Html);
        Assert.Contains("Stroller: ¥1,299.50", rendered.Text);
        Assert.DoesNotContain("<", rendered.Text);
    }

    [Fact]
    public void a_layout_with_its_own_liquid_is_rendered_around_the_message()
    {
        var layout = """{"id": "default", "kind": "layout", "locales": {"en": {"html": "<header>Hi {{ customer.first_name }}</header>{{ content }}<footer>{{ 5 | money }}</footer>"}}}""";
        var rendered = Catalog(layout, Footer, Cart).Render(Request(ChannelNames.Email, "en", "<b>"));
        Assert.StartsWith("<header>Hi &lt;b&gt;</header><li>Stroller: ¥1,299.50</li>", rendered.Html);
        Assert.EndsWith("<footer>¥5.00</footer>", rendered.Html);
    }

    [Fact]
    public void an_unknown_locale_falls_back_to_the_default_and_a_language_match_wins_over_it()
    {
        var catalog = Catalog(Layout, Footer, Cart);
        Assert.Equal("zh-CN", catalog.Render(Request(ChannelNames.Email, "fr")).Locale);
        Assert.Equal("zh-CN", catalog.Render(Request(ChannelNames.Email, "zh")).Locale);
        Assert.Contains("<p>再见</p>", catalog.Render(Request(ChannelNames.Email, null)).Html);
    }

    [Fact]
    public void sms_uses_its_own_part_with_money_in_another_currency_and_dates_in_the_customers_zone()
    {
        var rendered = Catalog(Layout, Footer, Cart).Render(Request(ChannelNames.Sms, "en"));
        Assert.Equal("Cart of 1 items, $1,299.50. Sent 2026-11-22 12:00", rendered.Text);
        Assert.Null(rendered.Html);
    }

    [Fact]
    public void values_are_html_escaped_in_html_and_left_alone_in_text()
    {
        var rendered = Catalog(Layout, Footer, Cart).Render(Request(ChannelNames.Email, "en", "<script>x</script>"));
        Assert.Contains("Bye &lt;script&gt;x&lt;/script&gt;", rendered.Html);
        Assert.Equal("<script>x</script>, your cart is waiting", rendered.Subject);
    }

    [Fact]
    public void a_channel_part_that_is_missing_is_a_render_error_naming_the_template()
    {
        var e = Assert.Throws<TemplateRenderException>(() => Catalog(Layout, Footer, Cart).Render(Request(ChannelNames.Sms, "zh-CN")));
        Assert.Contains("'cart' (zh-CN) needs an sms or text part", e.Message);
    }

    [Fact]
    public void syntax_errors_are_reported_with_part_line_and_column()
    {
        var (template, errors) = TemplateParser.Parse(JsonDocument.Parse("""
            {"id": "bad", "locales": {"en": {"subject": "Hi", "html": "<p>\n  {% if customer.vip %}VIP\n{{ customer.name | shout }}"}}}
            """).RootElement);
        Assert.Null(template);
        Assert.Contains(errors, e => e.ToString() == "locales.en.html (line 3, column 1): unknown filter 'shout'");
        Assert.Contains(errors, e => e.ToString() == "locales.en.html (line 2, column 3): 'if' is never closed with 'endif'");
    }

    [Theory]
    [InlineData("{% endfor %}", "'endfor' closes nothing")]
    [InlineData("{% for x in y %}{% endif %}{% endfor %}", "'endif' found where 'endfor' was expected")]
    [InlineData("{% blink %}", "unknown tag 'blink'")]
    [InlineData("{{ name", "'{{' is never closed")]
    [InlineData("{% include footer %}", "include needs a quoted template id")]
    public void each_kind_of_liquid_mistake_is_named(string source, string message)
    {
        var (errors, _) = LiquidCheck.Check(source, "html");
        Assert.Contains(errors, e => e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void documents_with_wrong_shapes_are_refused_part_by_part()
    {
        var (_, errors) = TemplateParser.Parse(JsonDocument.Parse("""
            {"id": "no spaces", "kind": "banner", "locales": {"english": {"subject": 3, "footer": "x"}}}
            """).RootElement);
        Assert.Equal(["id", "kind", "locales.english", "locales.english.subject", "locales.english.footer"], errors.Select(e => e.Path).Distinct());
    }

    [Fact]
    public void missing_layouts_and_partials_and_include_loops_are_caught_across_templates()
    {
        var a = Parse("""{"id": "a", "kind": "partial", "locales": {"en": {"body": "{% include 'b' %}"}}}""");
        var b = Parse("""{"id": "b", "kind": "partial", "locales": {"en": {"body": "{% include 'a' %}"}}}""");
        var m = Parse("""{"id": "m", "layout": "nope", "locales": {"en": {"subject": "s", "html": "{% include 'missing' %}"}}}""");
        var errors = new TemplateCatalog([a, b, m]).Check().Select(e => e.ToString()).ToList();
        Assert.Contains("a: includes itself: a → b → a", errors);
        Assert.Contains("m.layout: 'nope' is not a layout template", errors);
        Assert.Contains("m.locales.en.html: includes 'missing', which is not a partial template", errors);
    }

    [Fact]
    public void a_runaway_loop_stops_at_the_iteration_limit_instead_of_hanging()
    {
        var catalog = Catalog("""{"id": "cart", "locales": {"en": {"subject": "s", "text": "{% for i in (1..100000) %}{% for j in (1..100000) %}x{% endfor %}{% endfor %}"}}}""");
        var e = Assert.Throws<TemplateRenderException>(() => catalog.Render(Request(ChannelNames.Email, "en")));
        Assert.Contains("iterations", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void templates_see_only_the_values_they_are_given()
    {
        // No .NET members are reachable: a string's Length or a type's name renders as nothing.
        var catalog = Catalog("""{"id": "cart", "locales": {"en": {"subject": "[{{ customer.first_name.Length }}][{{ customer.GetType }}]", "text": "t"}}}""");
        Assert.Equal("[][]", catalog.Render(Request(ChannelNames.Email, "en")).Subject);
    }
}
