package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/config"
)

const teamUsage = `usage:
  dialoog team create NAME [--org NAME] [--medical] [--hide-person]
  dialoog team add NAME EMAIL [--org NAME]
  dialoog team remove NAME EMAIL [--org NAME]
  dialoog team medical NAME on|off [--org NAME]`

// team manages the teams (functional boxes) of an organisation from the
// command line, as Beheer does (/beheer/teams): create one, add or remove a member (who gains
// or loses the team's conversations at once), flag it medical.
func team(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(teamUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("team "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	orgName := fs.String("org", cfg.OrgName, "organisation of the team")
	medical := fs.Bool("medical", false, "create: only this team's members may read medical conversations")
	hide := fs.Bool("hide-person", false, "create: outsiders see only the team's name, not who wrote")
	// Positional arguments may come before or after the flags.
	var pos []string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return usageError(err.Error())
		}
		rest = fs.Args()
		if len(rest) > 0 {
			pos, rest = append(pos, rest[0]), rest[1:]
		}
	}
	want := map[string]int{"create": 1, "add": 2, "remove": 2, "medical": 2}
	n, ok := want[sub]
	if !ok || len(pos) != n || strings.TrimSpace(pos[0]) == "" {
		return usageError(teamUsage)
	}
	var on bool
	if sub == "medical" {
		switch pos[1] {
		case "on":
			on = true
		case "off":
		default:
			return usageError("dialoog team medical NAME on|off")
		}
	}
	if sub == "add" || sub == "remove" {
		if _, err := auth.NormalizeEmail(pos[1]); err != nil {
			return err
		}
	}
	app, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	org, err := auth.OrganisationByName(ctx, app.db, *orgName)
	if err != nil {
		return apperr.New(apperr.NotFound, "org.not_found")
	}
	if sub == "create" {
		t, err := app.messages.CreateTeam(ctx, org.ID, pos[0], *medical, !*hide)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Team %q created in %s (medical: %v, outsiders see the person: %v).\n", t.Name, org.Name, t.Medical, t.ShowPerson)
		return nil
	}
	t, err := app.messages.TeamByName(ctx, org.ID, pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		if err := app.messages.AddTeamMember(ctx, t.ID, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now a member of %q and takes part in its conversations.\n", pos[1], t.Name)
	case "remove":
		if err := app.messages.RemoveTeamMember(ctx, t.ID, pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is no longer a member of %q and no longer sees its conversations.\n", pos[1], t.Name)
	case "medical":
		if err := app.messages.SetTeamMedical(ctx, t.ID, on); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Team %q medical: %v.\n", t.Name, on)
	}
	return nil
}
