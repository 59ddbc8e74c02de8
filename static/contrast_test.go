package static

import (
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// rootColours reads the colour custom properties of app.css's :root.
func rootColours(t *testing.T) (string, map[string]string) {
	t.Helper()
	src, err := fs.ReadFile(FS, "css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(src)
	root := regexp.MustCompile(`(?s):root\s*\{(.*?)\}`).FindStringSubmatch(css)
	if root == nil {
		t.Fatal("app.css has no :root")
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`--(c-[a-z-]+):\s*(#[0-9a-fA-F]{6})`).FindAllStringSubmatch(root[1], -1) {
		vars[m[1]] = strings.ToLower(m[2])
	}
	return css, vars
}

func relLuminance(hex string) float64 {
	lin := func(s string) float64 {
		v, _ := strconv.ParseUint(s, 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(hex[1:3]) + 0.7152*lin(hex[3:5]) + 0.0722*lin(hex[5:7])
}

func contrast(a, b string) float64 {
	la, lb := relLuminance(a), relLuminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestTextColoursContrast: every text colour of the palette is readable
// (WCAG AA, 4.5:1) on every background text is put on, and white on the
// primary and error colours (header, buttons).
func TestTextColoursContrast(t *testing.T) {
	_, vars := rootColours(t)
	pairs := [][2]string{{"c-on-primary", "c-primary"}, {"c-on-primary", "c-primary-hover"}, {"c-on-primary", "c-error"}}
	for _, fg := range []string{"c-text", "c-muted", "c-primary", "c-primary-hover", "c-error"} {
		for _, bg := range []string{"c-bg", "c-surface", "c-error-bg"} {
			pairs = append(pairs, [2]string{fg, bg})
		}
	}
	for _, p := range pairs {
		fg, bg := vars[p[0]], vars[p[1]]
		if fg == "" || bg == "" {
			t.Fatalf("app.css's :root lacks --%s or --%s", p[0], p[1])
		}
		if c := contrast(fg, bg); c < 4.5 {
			t.Errorf("--%s (%s) on --%s (%s) is %.2f:1, below 4.5:1", p[0], fg, p[1], bg, c)
		}
	}
}

// TestPlaceholderContrast: the example in an empty field ("06 12345678")
// is text too. Browsers draw it light (Firefox at 54% opacity of the text
// colour, about 3.6:1 on white); the stylesheet gives it the muted colour
// at full opacity.
func TestPlaceholderContrast(t *testing.T) {
	css, vars := rootColours(t)
	rule := regexp.MustCompile(`(?s)::placeholder\s*\{(.*?)\}`).FindStringSubmatch(css)
	if rule == nil {
		t.Fatal("app.css leaves the placeholder's colour to the browser")
	}
	colour := regexp.MustCompile(`color:\s*var\(--(c-[a-z-]+)\)`).FindStringSubmatch(rule[1])
	if colour == nil || vars[colour[1]] == "" {
		t.Fatalf("the placeholder has no palette colour: %s", rule[1])
	}
	if c := contrast(vars[colour[1]], vars["c-surface"]); c < 4.5 {
		t.Errorf("the placeholder is %.2f:1 on a field", c)
	}
	if !regexp.MustCompile(`opacity:\s*1\s*;`).MatchString(rule[1]) {
		t.Errorf("the placeholder keeps the browser's opacity: %s", rule[1])
	}
}
