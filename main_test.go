package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dialoog/db"
	"dialoog/notify/notifytest"
)

func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func countUsers(t *testing.T, dir string) int {
	t.Helper()
	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	n, err := d.NewSelect().Model((*db.User)(nil)).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestInviteCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": dir, "DIALOOG_ORG_NAME": "OSAW", "DIALOOG_BASE_URL": "http://dialoog.test"}

	code, out, errOut := runCmd(t, env, "invite", "--email", "jan@example.nl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "choose the mail address of its first admin") || !strings.Contains(out, "http://dialoog.test/eerste-beheerder/") {
		t.Fatalf("first run should bootstrap the organisation and the link for its first admin: %s", out)
	}
	if !strings.Contains(out, "Invitation queued for jan@example.nl (OSAW)") || !strings.Contains(out, "http://dialoog.test/aanmelden/") {
		t.Fatalf("output: %s", out)
	}
	users := countUsers(t, dir)

	for _, bad := range [][]string{
		{"invite", "--email", "geen-adres"},
		{"invite"},
		{"invite", "--email", "a@b.nl", "--lang", "de"},
		{"invite", "--email", "a@b.nl", "--org", "Onbekend"},
	} {
		code, _, errOut := runCmd(t, env, bad...)
		if code == 0 || !strings.Contains(errOut, "dialoog:") {
			t.Fatalf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
	if got := countUsers(t, dir); got != users {
		t.Fatalf("bad input stored users: %d -> %d", users, got)
	}
	code, out, _ = runCmd(t, env, "invite", "--email", "hr@example.nl", "--admin")
	if code != 0 || strings.Contains(out, "first admin") {
		t.Fatalf("second invite: %d %s", code, out)
	}
	// Jan was invited as an outsider: not "queued" as an admin.
	code, out, errOut = runCmd(t, env, "invite", "--email", "jan@example.nl", "--admin")
	if code != 2 || strings.Contains(out, "queued") || !strings.Contains(errOut, "already invited as an external user") {
		t.Fatalf("outsider invited as admin: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// invite only queues the invitation: it returns without contacting the SMTP
// server, here one that accepts connections and never answers.
func TestInviteDoesNotWaitForSMTP(t *testing.T) {
	hanging := notifytest.StartSilentSMTP(t)
	dir := t.TempDir()
	env := map[string]string{
		"DIALOOG_DATA_DIR": dir, "DIALOOG_ORG_NAME": "OSAW", "DIALOOG_BASE_URL": "http://dialoog.test",
		"DIALOOG_SMTP_URL": "smtp://" + hanging.Addr,
	}
	code, out, errOut := runCmd(t, env, "invite", "--email", "jan@example.nl")
	if code != 0 || !strings.Contains(out, "Invitation queued for jan@example.nl (OSAW)") {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if n := hanging.Accepted(); n != 0 {
		t.Fatalf("invite connected to the SMTP server %d times", n)
	}
	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// Jan's invitation waits for a server's worker (the first admin is
	// only chosen through the printed link).
	n, err := d.NewSelect().Model((*db.OutboxItem)(nil)).
		Where("channel = ? AND status = ? AND attempts = 0", db.ChannelMail, db.OutboxPending).Count(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("%d pending invitations (%v), want 1", n, err)
	}
}

func TestConfigErrorNamesVariable(t *testing.T) {
	code, _, errOut := runCmd(t, map[string]string{"DIALOOG_BASE_URL": "localhost", "DIALOOG_DATA_DIR": t.TempDir()})
	if code != 2 || !strings.Contains(errOut, "DIALOOG_BASE_URL") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestMigrateCommand(t *testing.T) {
	env := map[string]string{"DIALOOG_DATA_DIR": t.TempDir()}
	code, out, _ := runCmd(t, env, "migrate")
	if code != 0 || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("first migrate: %d %q", code, out)
	}
	code, out, _ = runCmd(t, env, "migrate")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: %d %q", code, out)
	}
	code, _, errOut := runCmd(t, env, "frobnicate")
	if code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
}

func TestTermsPublishCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": dir}
	file := filepath.Join(dir, "voorwaarden.txt")
	if err := os.WriteFile(file, []byte("Nieuwe voorwaarden"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, env, "terms", "publish", file)
	if code != 0 || !strings.Contains(out, "Published terms version 2") {
		t.Fatalf("publish: %d %q %q", code, out, errOut)
	}
	empty := filepath.Join(dir, "leeg.txt")
	os.WriteFile(empty, []byte("  \n"), 0o600)
	if code, _, errOut := runCmd(t, env, "terms", "publish", empty); code != 2 || !strings.Contains(errOut, "empty") {
		t.Fatalf("empty file: %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, env, "terms", "publish", filepath.Join(dir, "missing.txt")); code != 2 {
		t.Fatalf("missing file: %d", code)
	}
}

// TestDemoCommand: dialoog demo fills a new database with the seed's
// people and prints how to log in as each; again, it gives them new
// credentials and no second message; with anyone else in the database it
// refuses.
func TestDemoCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": dir}
	for range 2 {
		code, out, errOut := runCmd(t, env, "demo")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"hanna@osaw.example", "jan@werkgever.example", "password:", "app secret:", `"testbericht"`} {
			if !strings.Contains(out, want) {
				t.Fatalf("output lacks %q:\n%s", want, out)
			}
		}
	}
	if n := countUsers(t, dir); n != 2 {
		t.Fatalf("%d users, want the 2 demo people", n)
	}
	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.NewSelect().Model((*db.Thread)(nil)).Where("subject = ?", "testbericht").Count(context.Background())
	d.Close()
	if err != nil || n != 1 {
		t.Fatalf("%d testbericht conversations (%v), want 1", n, err)
	}
	if code, _, errOut := runCmd(t, env, "invite", "--org", "OSAW", "--email", "iemand@example.nl"); code != 0 {
		t.Fatalf("invite: %s", errOut)
	}
	code, _, errOut := runCmd(t, env, "demo")
	if code != 2 || !strings.Contains(errOut, "already has other people") {
		t.Fatalf("demo over other people: exit %d, %q", code, errOut)
	}
}

// dialoog team creates a team, adds and removes members and flags it
// medical; bad input is refused with a message and stores nothing.
func TestTeamCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": dir, "DIALOOG_ORG_NAME": "OSAW", "DIALOOG_BASE_URL": "http://dialoog.test"}
	for _, email := range []string{"hanna@osaw.nl", "piet@osaw.nl"} {
		if code, _, errOut := runCmd(t, env, "invite", "--email", email, "--internal"); code != 0 {
			t.Fatalf("invite: %s", errOut)
		}
	}
	if code, _, errOut := runCmd(t, env, "invite", "--email", "jan@example.nl"); code != 0 {
		t.Fatalf("invite: %s", errOut)
	}
	code, out, errOut := runCmd(t, env, "team", "create", "OSAW Verzuim", "--hide-person")
	if code != 0 || !strings.Contains(out, `Team "OSAW Verzuim" created in OSAW`) {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"team", "add", "OSAW Verzuim", "hanna@osaw.nl"},
		{"team", "add", "OSAW Verzuim", "piet@osaw.nl"},
		{"team", "medical", "OSAW Verzuim", "on"},
		{"team", "remove", "OSAW Verzuim", "piet@osaw.nl"},
	} {
		if code, out, errOut := runCmd(t, env, args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, errOut)
		}
	}
	for bad, want := range map[string][]string{
		"already has a team":       {"team", "create", "OSAW Verzuim"},
		"only internal users":      {"team", "add", "OSAW Verzuim", "jan@example.nl"},
		"nobody has this mail":     {"team", "add", "OSAW Verzuim", "niemand@osaw.nl"},
		"not a member":             {"team", "remove", "OSAW Verzuim", "piet@osaw.nl"},
		"no such team":             {"team", "add", "Bestaat niet", "piet@osaw.nl"},
		"team medical NAME on":     {"team", "medical", "OSAW Verzuim", "ja"},
		"usage":                    {"team", "create"},
		"no such organisation":     {"team", "create", "X", "--org", "Onbekend"},
		"not a valid mail":         {"team", "add", "OSAW Verzuim", "geen-adres"},
		"dialoog team create NAME": {"team", "delete", "OSAW Verzuim"},
	} {
		code, _, errOut := runCmd(t, env, want...)
		if code != 2 || !strings.Contains(errOut, bad) {
			t.Errorf("%v: exit %d, stderr %q", want, code, errOut)
		}
	}

	d, err := db.OpenSQLite(context.Background(), filepath.Join(dir, db.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var teams []db.Team
	if err := d.NewSelect().Model(&teams).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(teams) != 1 || teams[0].Name != "OSAW Verzuim" || !teams[0].Medical || teams[0].ShowPerson {
		t.Fatalf("teams: %+v", teams)
	}
	var members []string
	if err := d.NewSelect().TableExpr("team_members AS tm").ColumnExpr("u.email").Join("JOIN users AS u ON u.id = tm.user_id").Scan(context.Background(), &members); err != nil {
		t.Fatal(err)
	}
	if len(members) != 1 || members[0] != "hanna@osaw.nl" {
		t.Fatalf("members: %v", members)
	}
}

func TestSSOCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": dir, "DIALOOG_ORG_NAME": "OSAW", "DIALOOG_BASE_URL": "https://dialoog.example"}
	if code, _, errOut := runCmd(t, env, "invite", "--email", "beheer@osaw.nl", "--internal", "--admin"); code != 0 {
		t.Fatalf("invite: %s", errOut)
	}
	if code, out, errOut := runCmd(t, env, "sso", "show"); code != 0 || !strings.Contains(out, "no single sign-on") {
		t.Fatalf("show before: %d %s %s", code, out, errOut)
	}
	// Without a secret (no variable, empty stdin) the first set is refused.
	code, _, errOut := runCmd(t, env, "sso", "set", "--issuer", "https://idp.osaw.example", "--client-id", "dialoog", "--domains", "osaw.nl")
	if code != 2 || !strings.Contains(errOut, "client secret is required") {
		t.Fatalf("set without secret: %d %s", code, errOut)
	}
	env["DIALOOG_SSO_CLIENT_SECRET"] = "s3cret-value"
	code, out, errOut := runCmd(t, env, "sso", "set", "--issuer", "https://idp.osaw.example", "--client-id", "dialoog", "--domains", "osaw.nl, @Zorg.NL", "--create-users")
	if code != 0 || !strings.Contains(out, "redirect URI:            https://dialoog.example/inloggen/organisatie/terug") ||
		!strings.Contains(out, "back-channel logout URI: https://dialoog.example/inloggen/organisatie/afmelden/1") {
		t.Fatalf("set: %d %s %s", code, out, errOut)
	}
	code, out, _ = runCmd(t, env, "sso", "show")
	if code != 0 || !strings.Contains(out, "domains:       osaw.nl zorg.nl") || !strings.Contains(out, "create users:  true") || strings.Contains(out, "s3cret") {
		t.Fatalf("show: %d %s", code, out)
	}
	for bad, args := range map[string][]string{
		"must use https":       {"sso", "set", "--issuer", "http://idp.osaw.example", "--client-id", "x", "--domains", "osaw.nl"},
		"not a mail domain":    {"sso", "set", "--issuer", "https://idp.osaw.example", "--client-id", "x", "--domains", "osaw"},
		"no such organisation": {"sso", "show", "--org", "Onbekend"},
		"usage":                {"sso", "aan"},
	} {
		code, _, errOut := runCmd(t, env, args...)
		if code != 2 || !strings.Contains(errOut, bad) {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if code, out, _ := runCmd(t, env, "sso", "off"); code != 0 || !strings.Contains(out, "is off") {
		t.Fatalf("off: %d %s", code, out)
	}
	if code, out, _ := runCmd(t, env, "sso", "show"); code != 0 || !strings.Contains(out, "no single sign-on") {
		t.Fatalf("show after: %d %s", code, out)
	}
}

// TestSealKeyFilesCheckedAtStart: a DIALOOG_SEAL_CERT that cannot be read
// stops the start with a message naming it, not the first seal.
func TestSealKeyFilesCheckedAtStart(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCmd(t, map[string]string{
		"DIALOOG_DATA_DIR": dir, "DIALOOG_BASE_URL": "http://dialoog.test", "DIALOOG_ADDR": "127.0.0.1:0",
		"DIALOOG_SEAL_CERT": filepath.Join(dir, "missing.pem"), "DIALOOG_SEAL_KEY": filepath.Join(dir, "missing.key"),
	})
	if code == 0 || !strings.Contains(errOut, "DIALOOG_SEAL_CERT") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// The flags of the configuration also count after serve and migrate
// ("dialoog migrate --database-url ..."), instead of being ignored while
// the command runs against the default database; anything else after them
// is refused.
func TestFlagsAfterServeAndMigrate(t *testing.T) {
	envDir, flagDir := t.TempDir(), t.TempDir()
	env := map[string]string{"DIALOOG_DATA_DIR": envDir}
	code, out, errOut := runCmd(t, env, "migrate", "--data-dir", flagDir)
	if code != 0 || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("migrate --data-dir: exit %d, %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(flagDir, db.SQLiteFile)); err != nil {
		t.Fatalf("the database is not in the flag's data dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(envDir, db.SQLiteFile)); err == nil {
		t.Fatal("migrate used the environment's data dir despite --data-dir after the command")
	}
	// A bad value after the command is a configuration error, not ignored.
	code, _, errOut = runCmd(t, env, "serve", "--base-url", "localhost")
	if code != 2 || !strings.Contains(errOut, "DIALOOG_BASE_URL") {
		t.Fatalf("serve --base-url localhost: exit %d, stderr %q", code, errOut)
	}
	for _, args := range [][]string{{"migrate", "extra"}, {"serve", "extra"}, {"migrate", "--email", "a@b.nl"}} {
		code, _, errOut := runCmd(t, env, args...)
		if code != 2 || !strings.Contains(errOut, "dialoog:") && !strings.Contains(errOut, "config:") {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(envDir, db.SQLiteFile)); err == nil {
		t.Fatal("a refused command created a database")
	}
}
