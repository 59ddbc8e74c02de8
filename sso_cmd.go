package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"dialoog/apperr"
	"dialoog/auth"
	"dialoog/config"
)

const ssoUsage = `usage:
  dialoog sso set --issuer URL --client-id ID --domains "a.nl b.nl" [--create-users] [--org NAME]
                  (the client secret is read from DIALOOG_SSO_CLIENT_SECRET, or from the first line of stdin)
  dialoog sso show [--org NAME]
  dialoog sso off [--org NAME]`

// ssoCommand sets, shows or switches off the OpenID Connect provider of an
// organisation, as Beheer does (/beheer/sso). The client secret is never
// taken from the command line (it would end up in the shell's history and
// the process list) and never printed.
func ssoCommand(ctx context.Context, cfg *config.Config, log *slog.Logger, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError(ssoUsage)
	}
	sub := args[0]
	fs := flag.NewFlagSet("sso "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	orgName := fs.String("org", cfg.OrgName, "organisation")
	issuer := fs.String("issuer", "", "set: the provider's issuer URL")
	clientID := fs.String("client-id", "", "set: Dialoog's client id at the provider")
	domains := fs.String("domains", "", "set: allowed mail domains, separated by spaces or commas")
	create := fs.Bool("create-users", false, "set: a first login creates the user (internal, member)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(err.Error())
	}
	if fs.NArg() != 0 || (sub != "set" && sub != "show" && sub != "off") {
		return usageError(ssoUsage)
	}
	secret := ""
	if sub == "set" {
		secret = getenv("DIALOOG_SSO_CLIENT_SECRET")
		if secret == "" && stdin != nil {
			line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("read client secret: %w", err)
			}
			secret = strings.TrimRight(line, "\r\n")
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
	switch sub {
	case "set":
		in := auth.SSOInput{Issuer: *issuer, ClientID: *clientID, ClientSecret: strings.TrimSpace(secret), Domains: *domains, CreateUsers: *create}
		if err := app.sso.SaveForOrg(ctx, org.ID, in); err != nil {
			if fields := apperr.FieldsOf(err); len(fields) > 0 {
				for _, f := range fields {
					fmt.Fprintf(stderr, "dialoog: %s: %s\n", f.Field, cliMessage(f))
				}
				return usageError("the provider was not saved")
			}
			return err
		}
		fmt.Fprintf(stdout, "Single sign-on of %s is set: issuer %s, client %s.\n", org.Name, strings.TrimSpace(*issuer), strings.TrimSpace(*clientID))
		printSSOAddresses(stdout, cfg, org.ID)
	case "show":
		s, ok, err := app.sso.SettingsOfOrg(ctx, org.ID)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(stdout, "%s has no single sign-on.\n", org.Name)
			return nil
		}
		fmt.Fprintf(stdout, "issuer:        %s\nclient id:     %s\nclient secret: (stored sealed)\ndomains:       %s\ncreate users:  %v\nchanged:       %s\n",
			s.Issuer, s.ClientID, strings.Join(s.Domains, " "), s.CreateUsers, s.UpdatedAt.UTC().Format("2006-01-02 15:04 MST"))
		printSSOAddresses(stdout, cfg, org.ID)
	case "off":
		if err := app.sso.RemoveForOrg(ctx, org.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Single sign-on of %s is off.\n", org.Name)
	}
	return nil
}

// printSSOAddresses prints what the provider must know of Dialoog.
func printSSOAddresses(w io.Writer, cfg *config.Config, orgID int64) {
	base := strings.TrimRight(cfg.BaseURL.String(), "/")
	fmt.Fprintf(w, "redirect URI:            %s%s\nback-channel logout URI: %s%s%d\n", base, auth.PathSSOCallback, base, auth.PathSSOBackChannel, orgID)
}
