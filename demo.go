package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"dialoog/auth"
	"dialoog/config"
	"dialoog/messaging"
)

// The seed's people: a case manager of OSAW and the employee she writes
// to, with the seed's "testbericht".
const (
	demoOrg     = "OSAW"
	demoSubject = "testbericht"
	demoBody    = "testbericht"
)

var demoPeople = []auth.DemoPerson{
	{Email: "hanna@osaw.example", Internal: true, Admin: true, Initials: "H.", FirstName: "Hanna", NamePrefix: "de", Last: "Vries"},
	{Email: "jan@werkgever.example", Initials: "J.", FirstName: "Jan", Last: "Jansen"},
}

var demoRoles = []string{"case manager of OSAW (internal, admin)", "employee (external)"}

// demo fills an organisation with a case manager, an employee and the
// seed's message, and prints how to log in as each: a way to see the whole
// product in a minute. Only for a database without anyone else.
func demo(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	app, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	if err := auth.EnsureTerms(ctx, app.db, time.Now); err != nil {
		return err
	}
	_, logins, err := app.accounts.FillDemo(ctx, demoOrg, demoPeople)
	if err != nil {
		return err
	}
	manager, employee := logins[0].User, logins[1].User
	// The seed's message, once.
	box, err := app.messages.Inbox(ctx, employee.Identity(), 1, demoSubject)
	if err != nil {
		return err
	}
	if len(box.Threads) == 0 {
		if _, err := app.messages.Compose(ctx, manager.Identity(), messaging.ComposeInput{To: []string{employee.Email}, Subject: demoSubject, Body: demoBody}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "Demo organisation %q is ready. Start Dialoog (dialoog, or go run .) and log in at %s/inloggen as:\n", demoOrg, cfg.BaseURL)
	for i, l := range logins {
		fmt.Fprintf(stdout, "\n%s, %s\n", messaging.DisplayName(l.User), demoRoles[i])
		fmt.Fprintf(stdout, "  mail address:   %s\n", l.Email)
		fmt.Fprintf(stdout, "  password:       %s\n", l.Password)
		fmt.Fprintf(stdout, "  app secret:     %s\n", auth.FormatSecret(l.TOTPSecret))
	}
	fmt.Fprintf(stdout, "\nAdd an app secret to an authenticator app (or: oathtool --totp -b SECRET) for the code of the second step.\n")
	fmt.Fprintf(stdout, "Jan's box holds the message %q from OSAW. These accounts are for trying Dialoog only: their passwords\n", demoSubject)
	fmt.Fprintln(stdout, "and secrets are shown here and nowhere else; run dialoog demo again for new ones.")
	return nil
}
