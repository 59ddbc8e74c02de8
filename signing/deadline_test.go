package signing

import (
	"testing"
	"time"

	"dialoog/apperr"
)

func TestParseDeadline(t *testing.T) {
	summer := time.Date(2026, 7, 1, 21, 59, 59, 0, time.UTC) // CEST is UTC+2
	for _, s := range []string{"2026-07-01", "01-07-2026", "1-7-2026", "1/7/2026", " 01-07-2026 "} {
		got, err := ParseDeadline(s)
		if err != nil || !got.Equal(summer) {
			t.Errorf("ParseDeadline(%q) = %v, %v; want %v", s, got, err, summer)
		}
	}
	for _, s := range []string{"31-02-2026", "morgen", "2026-13-01", "07-2026", "20260701"} {
		if _, err := ParseDeadline(s); apperr.FieldsOf(err) == nil {
			t.Errorf("ParseDeadline(%q) = %v, want a refusal on the field", s, err)
		}
	}
}
