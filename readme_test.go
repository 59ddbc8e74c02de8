package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dialoog/config"
	"dialoog/db"
	"dialoog/notify"
	"dialoog/vault"
)

// TestREADMEMatchesCode keeps the README honest about what the code has:
// every module go.mod requires directly is in the dependency table (with
// why), every top-level package and Go file is in the layout, every
// command of main.go is on the command line, and every DIALOOG_ variable
// is in the configuration section.
func TestREADMEMatchesCode(t *testing.T) {
	readme := readFile(t, "README.md")
	section := func(t *testing.T, heading string) string {
		t.Helper()
		i := strings.Index(readme, "\n## "+heading+"\n")
		if i < 0 {
			t.Fatalf("the README has no section %q", heading)
		}
		rest := readme[i+len(heading)+5:]
		if j := strings.Index(rest, "\n## "); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}

	t.Run("dependencies", func(t *testing.T) {
		deps := section(t, "Dependencies and why they are there")
		for _, mod := range directRequirements(t, readFile(t, "go.mod")) {
			if strings.Contains(deps, "`"+mod+"`") {
				continue
			}
			// A sub-module listed with its parent: `github.com/uptrace/bun`
			// (+ `sqlitedialect`, ...).
			parent, last := mod, mod[strings.LastIndex(mod, "/")+1:]
			found := false
			for strings.Contains(parent, "/") && !found {
				parent = parent[:strings.LastIndex(parent, "/")]
				found = strings.Contains(deps, "`"+parent+"`") && strings.Contains(deps, "`"+last+"`")
			}
			if !found {
				t.Errorf("go.mod requires %s, which the README's dependency table does not list", mod)
			}
		}
	})

	t.Run("layout", func(t *testing.T) {
		layout := section(t, "Layout")
		entries, err := os.ReadDir(".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "."), name == "data", name == "testdata":
				continue
			case e.IsDir():
				if !hasGoFiles(t, name) {
					continue
				}
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `/\s`).MatchString(layout) {
					t.Errorf("package %s/ is not in the README's layout", name)
				}
			case strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go"):
				if !slices.Contains(layoutNames(layout), name) {
					t.Errorf("%s is not in the README's layout", name)
				}
			}
		}
	})

	t.Run("commands", func(t *testing.T) {
		usage := section(t, "Command line")
		cmds := regexp.MustCompile(`(?m)^\tcase "([a-z]+)":\n\t\terr = `).FindAllStringSubmatch(readFile(t, "main.go"), -1)
		if len(cmds) < 5 {
			t.Fatalf("found %d commands in main.go; the pattern is out of date", len(cmds))
		}
		for _, c := range cmds {
			if c[1] == "serve" {
				continue // dialoog [flags] = dialoog serve
			}
			if !strings.Contains(usage, "dialoog "+c[1]) {
				t.Errorf("the command %q is not on the README's command line", c[1])
			}
		}
	})

	t.Run("configuration", func(t *testing.T) {
		_, _, help := runCmd(t, nil, "-h")
		vars := regexp.MustCompile(`\((DIALOOG_[A-Z0-9_]+)\)`).FindAllStringSubmatch(help, -1)
		if len(vars) < 10 {
			t.Fatalf("dialoog -h names %d variables:\n%s", len(vars), help)
		}
		for _, v := range vars {
			if !strings.Contains(readme, "`"+v[1]+"`") {
				t.Errorf("%s is not in the README", v[1])
			}
		}
		// And the other way: every variable of the README's table is read,
		// by the configuration or (the client secret) by its command.
		read := map[string]bool{}
		for _, v := range vars {
			read[v[1]] = true
		}
		sso := readFile(t, "sso_cmd.go")
		rows := regexp.MustCompile("(?m)^\\| `(DIALOOG_[A-Z0-9_]+)` \\|").FindAllStringSubmatch(section(t, "Configuration"), -1)
		if len(rows) < 10 {
			t.Fatalf("found %d variables in the README's configuration table; the pattern is out of date", len(rows))
		}
		for _, r := range rows {
			if !read[r[1]] && !strings.Contains(sso, `"`+r[1]+`"`) {
				t.Errorf("the README documents %s, which nothing reads", r[1])
			}
		}
	})

	// An operator learns from the README what to back up: the files
	// Dialoog keeps in the data dir by their names, the database, and the
	// key without which a backup is unreadable.
	t.Run("backups", func(t *testing.T) {
		backups := section(t, "Backups")
		for _, name := range []string{db.SQLiteFile, vault.KeyFile, notify.VAPIDKeyFile,
			filepath.Base(attachmentsDir(&config.Config{DataDir: "data"})) + "/",
			"DIALOOG_ENCRYPTION_KEY", "DIALOOG_VAPID_PRIVATE_KEY", "pg_dump"} {
			if !strings.Contains(backups, "`"+name) {
				t.Errorf("the README's backups section does not name %s", name)
			}
		}
	})
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// directRequirements returns the modules of go.mod's require lines that
// are not marked indirect.
func directRequirements(t *testing.T, gomod string) []string {
	t.Helper()
	var mods []string
	inBlock := false
	for _, line := range strings.Split(gomod, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "require (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "require "):
			line = strings.TrimPrefix(line, "require ")
		case !inBlock:
			continue
		}
		if line == "" || strings.HasPrefix(line, "//") || strings.Contains(line, "// indirect") {
			continue
		}
		mods = append(mods, strings.Fields(line)[0])
	}
	if len(mods) < 10 {
		t.Fatalf("found %d direct requirements in go.mod; the parser is out of date", len(mods))
	}
	slices.Sort(mods)
	return mods
}

// hasGoFiles tells whether dir or a directory below it holds a .go file.
func hasGoFiles(t *testing.T, dir string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(name, ".go") {
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// layoutNames returns the names of the layout block's first column
// ("main.go, app.go  wiring: ..." gives main.go and app.go).
func layoutNames(layout string) []string {
	var names []string
	for _, line := range strings.Split(layout, "\n") {
		col, _, _ := strings.Cut(line, "  ")
		for _, n := range strings.Split(col, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	return names
}
