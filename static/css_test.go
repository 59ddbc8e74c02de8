package static

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
)

// TestStylesheetBlocksClose: every rule of our own stylesheets is closed
// before the next one starts. A rule left open does not break the file: the
// browser reads everything after it as rules nested in it (CSS nesting), so
// they only apply inside that one element and the pages they were written
// for lose their styles without an error anywhere. Blocks may only be nested
// in an at-rule (@media, @supports, @keyframes).
func TestStylesheetBlocksClose(t *testing.T) {
	files, err := fs.Glob(FS, "css/*.css")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stylesheets: %v", err)
	}
	for _, name := range files {
		src, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		if problems := cssNesting(string(src)); len(problems) > 0 {
			t.Errorf("%s:\n%s", name, strings.Join(problems, "\n"))
		}
	}
}

func TestCSSNestingFindsAnOpenRule(t *testing.T) {
	good := "/* a { */ a { color: red; }\n@media (max-width: 30rem) {\n  a { color: blue; }\n}\nb::after { content: \"{\"; }\n"
	if p := cssNesting(good); len(p) != 0 {
		t.Errorf("a well-formed sheet: %v", p)
	}
	for _, bad := range []string{
		"a {\n  color: red;\n\nb {\n  color: blue;\n}\n",
		"a { color: red; }\n}\n",
		"@media print {\n  a { color: red;\n}\n",
	} {
		if p := cssNesting(bad); len(p) == 0 {
			t.Errorf("no problem found in %q", bad)
		}
	}
}

// cssNesting reports, by line, rules opened inside a rule that is not an
// at-rule, closing braces without a block, and blocks left open at the end.
// Comments and quoted strings are skipped.
func cssNesting(src string) []string {
	var problems []string
	type block struct {
		line int
		at   bool
	}
	var open []block
	line, start := 1, 0 // start: where the current prelude began
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\n':
			line++
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return append(problems, "an unclosed comment")
			}
			line += strings.Count(src[i:i+2+end+2], "\n")
			i += 2 + end + 1
			start = i + 1
		case c == '"' || c == '\'':
			end := strings.IndexByte(src[i+1:], c)
			if end < 0 {
				return append(problems, "an unclosed string")
			}
			i += end + 1
		case c == '{':
			prelude := strings.TrimSpace(src[start:i])
			if n := len(open); n > 0 && !open[n-1].at {
				problems = append(problems, "line "+strconv.Itoa(line)+": "+prelude+" opens inside the rule of line "+strconv.Itoa(open[n-1].line))
			}
			open = append(open, block{line: line, at: strings.HasPrefix(prelude, "@")})
			start = i + 1
		case c == '}':
			if len(open) == 0 {
				problems = append(problems, "line "+strconv.Itoa(line)+": a closing brace without a block")
			} else {
				open = open[:len(open)-1]
			}
			start = i + 1
		case c == ';':
			start = i + 1
		}
	}
	for _, b := range open {
		problems = append(problems, "line "+strconv.Itoa(b.line)+": a block that is never closed")
	}
	return problems
}
