package handlers

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
)

// TestRenderDropsAFailingComponent: what a component wrote before it failed
// never reaches the response (the page is rendered into the response's
// body, which is only sent once the handler returned); the error page
// stands alone.
func TestRenderDropsAFailingComponent(t *testing.T) {
	half := strings.Repeat("<p>halve pagina</p>", 1000) // beyond any write buffer
	failing := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, half); err != nil {
			return err
		}
		return errors.New("kapot")
	})
	whole := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "<p>hele pagina</p>")
		return err
	})
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		// As the app's error page does: rendered into the same response.
		return render(c, fiber.StatusInternalServerError, templ.Raw("<p>Er ging iets mis</p>"))
	}})
	app.Get("/fout", func(c *fiber.Ctx) error { return render(c, fiber.StatusOK, failing) })
	app.Get("/goed", func(c *fiber.Ctx) error { return render(c, fiber.StatusOK, whole) })
	for path, want := range map[string]string{"/fout": "<p>Er ging iets mis</p>", "/goed": "<p>hele pagina</p>"} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want {
			t.Errorf("GET %s: %d bytes, %q…, want exactly %q", path, len(body), string(body[:min(len(body), 40)]), want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
	}
}
