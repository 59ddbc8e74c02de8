package handlers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

// dbPkg is the package of the database models, which stop at the services.
const dbPkg = "dialoog/db"

// TestNoDatabaseModelsInHandlers: handlers and templates get plain values
// (identity.User, the services' view types), never a database model: no
// source file of handlers/ or components/ imports db, and no method of the
// services they call takes or returns a model of db, however deeply nested.
func TestNoDatabaseModelsInHandlers(t *testing.T) {
	for _, dir := range []string{".", filepath.Join("..", "components")} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == dbPkg {
					t.Errorf("%s imports %s", f, dbPkg)
				}
			}
		}
	}

	services := []any{
		(*Admin)(nil), (*Branding)(nil), (*Retention)(nil), (*Teams)(nil), (*Invitations)(nil), (*Accounts)(nil),
		(*Sessions)(nil), (*Terms)(nil), (*Messages)(nil), (*Live)(nil), (*FirstAdmin)(nil), (*LiveMessages)(nil),
		(*LiveSigning)(nil), (*Passkeys)(nil), (*Seals)(nil), (*Signing)(nil), (*SSO)(nil), (*DevOutbox)(nil),
		(*RequestMetrics)(nil),
	}
	for _, s := range services {
		it := reflect.TypeOf(s).Elem()
		for i := range it.NumMethod() {
			m := it.Method(i)
			for j := range m.Type.NumIn() {
				if path := dbTypeIn(m.Type.In(j), map[reflect.Type]bool{}); path != "" {
					t.Errorf("%s.%s takes %s", it.Name(), m.Name, path)
				}
			}
			for j := range m.Type.NumOut() {
				if path := dbTypeIn(m.Type.Out(j), map[reflect.Type]bool{}); path != "" {
					t.Errorf("%s.%s returns %s", it.Name(), m.Name, path)
				}
			}
		}
	}
}

// isModel reports a table model of bun (a struct with bun.BaseModel): rows,
// as opposed to db's handles such as the connection pool.
func isModel(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	for i := range t.NumField() {
		if f := t.Field(i); f.Type == reflect.TypeOf(bun.BaseModel{}) || (f.Anonymous && isModel(f.Type)) {
			return true
		}
	}
	return false
}

// dbTypeIn names the first model of package db that t is or holds: in
// pointers, slices, arrays, maps, channels, function signatures and struct
// fields (unexported ones too: a handler could not read them, but they
// would still carry the model); "" when there is none.
func dbTypeIn(t reflect.Type, seen map[reflect.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	if t.PkgPath() == dbPkg && isModel(t) {
		return t.String()
	}
	var inner []reflect.Type
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Chan:
		inner = append(inner, t.Elem())
	case reflect.Map:
		inner = append(inner, t.Key(), t.Elem())
	case reflect.Func:
		for i := range t.NumIn() {
			inner = append(inner, t.In(i))
		}
		for i := range t.NumOut() {
			inner = append(inner, t.Out(i))
		}
	case reflect.Struct:
		for i := range t.NumField() {
			if path := dbTypeIn(t.Field(i).Type, seen); path != "" {
				return t.String() + "." + t.Field(i).Name + ": " + path
			}
		}
	}
	for _, e := range inner {
		if path := dbTypeIn(e, seen); path != "" {
			return path
		}
	}
	return ""
}
