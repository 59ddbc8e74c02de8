package db

import (
	"reflect"
	"testing"
	"time"

	"github.com/uptrace/bun"
)

// TestIdentityRoundTrip: every column of a user that identity carries comes
// back from db.UserOf as it was, and the copy shares nothing with the row.
func TestIdentityRoundTrip(t *testing.T) {
	// Columns identity leaves out on purpose (see UserOf).
	dropped := map[string]bool{"BaseModel": true, "AwayMessage": true, "AwaySealed": true, "AwayChangedAt": true,
		"UpdatedAt": true, "LastSummaryAt": true, "PushDevices": true}
	org := int64(7)
	u := &User{OrgID: &org}
	v := reflect.ValueOf(u).Elem()
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Interface().(type) {
		case string:
			f.SetString(v.Type().Field(i).Name + "-value")
		case int64, int:
			f.SetInt(int64(100 + i))
		case bool:
			f.SetBool(true)
		case time.Time:
			f.Set(reflect.ValueOf(at.Add(time.Duration(i) * time.Minute)))
		case bun.NullTime:
			f.Set(reflect.ValueOf(bun.NullTime{Time: at.Add(time.Duration(i) * time.Hour)}))
		}
	}
	u.AwaySealed = []byte{1}
	p := u.Identity()
	if !p.HasAwayMessage {
		t.Error("a sealed absence message is not reported")
	}
	back := UserOf(p)
	bv := reflect.ValueOf(back).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if dropped[name] {
			continue
		}
		if !reflect.DeepEqual(v.Field(i).Interface(), bv.Field(i).Interface()) {
			t.Errorf("%s: %v, back %v", name, v.Field(i).Interface(), bv.Field(i).Interface())
		}
	}
	*p.OrgID = 8
	if *u.OrgID != 7 || *back.OrgID != 7 {
		t.Error("the copies share the organisation id")
	}
	if (&User{AwayMessage: " "}).Identity().HasAwayMessage || (&User{}).Identity().HasAwayMessage {
		t.Error("no absence message is reported as one")
	}
	s := &Session{ID: 3, TokenHash: []byte("secret"), ConfirmedAt: bun.NullTime{Time: at}, FactorGrantUntil: bun.NullTime{Time: at.Add(time.Hour)}}
	if got := s.Identity(); got.ID != 3 || !got.ConfirmedAt.Equal(at) || !got.FactorGrantUntil.Equal(at.Add(time.Hour)) {
		t.Errorf("session: %+v", got)
	}
}
