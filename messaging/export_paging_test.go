package messaging_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"dialoog/db"
	"dialoog/db/dbtest"
	"dialoog/messaging"
)

// TestExportLongConversationOnce: a conversation of more messages than the
// export reads at a time holds each message once, also when the messages'
// times have nanoseconds, as a real clock gives them.
func TestExportLongConversationOnce(t *testing.T) {
	dbtest.ForEachEngine(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := setup(t, d)
		emp := f.active(t, "jan@example.nl", false, "Jan", "", "Berg")
		f.clk.Add(123456789 * time.Nanosecond)
		id, err := f.svc.Compose(ctx, f.hr.Identity(), messaging.ComposeInput{To: []string{emp.Email}, Subject: "Lang gesprek", Body: "Bericht 0"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 250
		for i := 1; i < n; i++ {
			f.clk.Add(time.Second + 987654321*time.Nanosecond)
			if _, err := f.svc.Reply(ctx, emp.Identity(), messaging.ReplyInput{ThreadID: id, Body: fmt.Sprintf("Bericht %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		data, err := exportWith(ctx, f.svc, emp, "")
		if err != nil {
			t.Fatal(err)
		}
		convs, _ := conversations(t, unzip(t, data))
		seen := map[int64]int{}
		for _, m := range convs[id].Messages {
			seen[m.ID]++
		}
		if len(convs[id].Messages) != n || len(seen) != n {
			t.Errorf("export holds %d messages, %d different, want %d", len(convs[id].Messages), len(seen), n)
		}
	})
}
