package handlers

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"dialoog/blob"
	"dialoog/db/dbtest"
)

// TestSlowDownloadsLeaveThePool: with attachments in PostgreSQL, a file
// streams out of the database on a connection of its own for as long as
// the client takes to read it. As many slow downloads (a phone on a bad
// line, or one user opening the file over and over without reading) as
// the pool has connections must not leave every other request waiting
// for one: the pages go on working.
func TestSlowDownloadsLeaveThePool(t *testing.T) {
	const pool = 4
	d := dbtest.MustOpenPostgresURL(t, dbtest.NewTestSchema(t)+"&pool_max_conns="+fmt.Sprint(pool))
	ra := newRealAppOn(t, d)
	ra.msg.Files.Store = &blob.Database{DB: d, MaxStreams: max(1, d.PoolSize()/2)}
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	jan := ra.person(t, "jan@example.nl", false, "Jan", "", "Jansen", "nl")
	base := ra.serve(t)
	// Larger than what the sockets' buffers take in, so that a client
	// that does not read holds the stream.
	resp, chip := postFile(t, base, hr, "groot.pdf", pdfStream(24<<20, 1))
	wantStatus(t, resp, http.StatusOK)
	id := chipID.FindStringSubmatch(chip)[1]
	threadID := ra.compose(t, hr.u, "Groot bestand", "Zie bijlage", jan.u.Email)
	aid, _ := strconv.ParseInt(id, 10, 64)
	ra.reply(t, hr.u, threadID, "Hierbij", aid)

	var cookies []string
	for _, c := range jan.b.cookies {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	addr := strings.TrimPrefix(base, "http://")
	for i := 0; i < pool+1; i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		fmt.Fprintf(conn, "GET /bijlagen/%s HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", id, addr, strings.Join(cookies, "; "))
		// Read the status line only, then stop reading.
		go bufio.NewReader(conn).ReadString('\n')
	}
	time.Sleep(500 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/berichten", nil)
	for _, c := range jan.b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	start := time.Now()
	page, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("inbox during %d slow downloads: %v after %s", pool+1, err, time.Since(start).Round(time.Millisecond))
	}
	page.Body.Close()
	wantStatus(t, page, http.StatusOK)
}
