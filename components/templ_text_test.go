package components

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	parser "github.com/a-h/templ/parser/v2"
	"github.com/a-h/templ/parser/v2/visitor"
)

// textAttributes are the attributes whose value people read or hear: a
// literal in one of them is text in one language only.
var textAttributes = map[string]bool{
	"title": true, "alt": true, "placeholder": true, "label": true, "summary": true,
	"aria-label": true, "aria-description": true, "aria-placeholder": true,
	"aria-roledescription": true, "aria-valuetext": true,
}

// literalTextAllowed are the literal texts that are the same in every
// language: the names of the languages, each written in itself (the
// language switches), and the name of a checksum.
var literalTextAllowed = map[string]bool{"Nederlands": true, "English": true, "SHA-256": true}

var (
	hasWord = regexp.MustCompile(`\pL\pL`)
	// keyLike is a message key, an id, a class, a path or another
	// machine word, which no one reads as text.
	keyLike = regexp.MustCompile(`^[a-z0-9_.\-/#?=&:{}]*$`)
)

// TestTemplatesHaveNoLiteralText parses every template and fails on text
// written in it rather than looked up in the catalogs: element text, a
// readable attribute (aria-label, title, placeholder, alt, ...) or a
// string literal in an expression that is no message key. Such text shows
// in one language to every reader, Dutch to an English one or the other
// way round.
func TestTemplatesHaveNoLiteralText(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates (%v)", err)
	}
	for _, file := range files {
		for _, found := range literalTexts(t, file) {
			t.Errorf("%s: text outside the catalogs: %s", file, found)
		}
	}
}

// TestLiteralTextsFindsText: the check itself finds each kind of literal.
func TestLiteralTextsFindsText(t *testing.T) {
	src := `package components

templ probe(m Meta) {
	<p>Geen berichten</p>
	<button aria-label="Sluiten" title={ "Close" } class="x-y">{ m.T("a.b") }</button>
	<input placeholder="Search"/>
	<span>{ m.T("a.c", "Name", "Jan de Vries") }</span>
	<label lang="en"><input type="radio" value="en"/> English</label>
	<a href="/berichten" hx-get="/berichten" class="link">{ m.T("a.d") }</a>
}
`
	got := literalTextsIn(t, "probe.templ", src)
	want := []string{`element text "Geen berichten"`, `aria-label="Sluiten"`, `string "Close" in { "Close" }`,
		`placeholder="Search"`, `string "Jan de Vries" in { m.T("a.c", "Name", "Jan de Vries") }`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func literalTexts(t *testing.T, file string) []string {
	t.Helper()
	tf, err := parser.Parse(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return literalTextsOf(t, tf)
}

func literalTextsIn(t *testing.T, name, src string) []string {
	t.Helper()
	tf, err := parser.ParseString(src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return literalTextsOf(t, tf)
}

func literalTextsOf(t *testing.T, tf *parser.TemplateFile) []string {
	t.Helper()
	var found []string
	v := visitor.New()
	v.Text = func(n *parser.Text) error {
		s := strings.TrimSpace(n.Value)
		if hasWord.MatchString(s) && !literalTextAllowed[s] {
			found = append(found, "element text "+strconv.Quote(s))
		}
		return nil
	}
	v.ConstantAttribute = func(n *parser.ConstantAttribute) error {
		if textAttributes[strings.ToLower(n.Key.String())] && hasWord.MatchString(n.Value) && !literalTextAllowed[n.Value] {
			found = append(found, n.Key.String()+"="+strconv.Quote(n.Value))
		}
		return nil
	}
	expr := func(e parser.Expression) {
		for _, s := range expressionLiterals(t, e.Value) {
			found = append(found, "string "+strconv.Quote(s)+" in { "+e.Value+" }")
		}
	}
	v.StringExpression = func(n *parser.StringExpression) error { expr(n.Expression); return nil }
	v.ExpressionAttribute = func(n *parser.ExpressionAttribute) error {
		if textAttributes[strings.ToLower(n.Key.String())] {
			expr(n.Expression)
		}
		return nil
	}
	if err := tf.Visit(v); err != nil {
		t.Fatal(err)
	}
	return found
}

// expressionLiterals returns the string literals of a Go expression that
// read as text: not a message key or the name of an argument of T or
// AppendT, not a machine word (keyLike), and with letters.
func expressionLiterals(t *testing.T, src string) []string {
	t.Helper()
	e, err := goparser.ParseExpr(src)
	if err != nil {
		return nil // a statement, not an expression: nothing is printed from it
	}
	skip := map[*ast.BasicLit]bool{}
	ast.Inspect(e, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		name := ""
		switch f := call.Fun.(type) {
		case *ast.SelectorExpr:
			name = f.Sel.Name
		case *ast.Ident:
			name = f.Name
		}
		if name != "T" && name != "AppendT" {
			return true
		}
		for i, arg := range call.Args {
			// The key, and the names of the arguments (1, 3, ...).
			if lit, ok := arg.(*ast.BasicLit); ok && (i == 0 || i%2 == 1) {
				skip[lit] = true
			}
		}
		return true
	})
	var out []string
	ast.Inspect(e, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || skip[lit] {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil || !hasWord.MatchString(s) || keyLike.MatchString(s) || literalTextAllowed[strings.TrimSpace(s)] {
			return true
		}
		out = append(out, s)
		return true
	})
	return out
}
