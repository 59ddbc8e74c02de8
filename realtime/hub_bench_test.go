package realtime

import (
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConn is an in-memory Conn whose writes only count; reads block until
// Close.
type fakeConn struct {
	closed  chan struct{}
	once    sync.Once
	written atomic.Int64
}

func newFakeConn() *fakeConn { return &fakeConn{closed: make(chan struct{})} }

func (c *fakeConn) ReadMessage() (int, []byte, error) {
	<-c.closed
	return 0, nil, net.ErrClosed
}

func (c *fakeConn) WriteMessage(int, []byte) error {
	c.written.Add(1)
	return nil
}

func (c *fakeConn) WriteControl(int, []byte, time.Time) error { return nil }
func (c *fakeConn) SetReadLimit(int64)                        {}
func (c *fakeConn) SetReadDeadline(time.Time) error           { return nil }
func (c *fakeConn) SetWriteDeadline(time.Time) error          { return nil }
func (c *fakeConn) SetPongHandler(func(string) error)         {}
func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// batch is how many messages the benchmarks send before waiting for the
// consumers to catch up, so that a queue of 32 never overflows and both
// sides measure the same delivery.
const batch = 16

// BenchmarkSendToUser measures SendToUser to a user with n connections,
// delivered by the writers to in-memory connections. Compare with
// BenchmarkChannelSend, the bare channel sends it is built on.
func BenchmarkSendToUser(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run("conns="+strconv.Itoa(n), func(b *testing.B) {
			h := NewHub(HubOptions{MaxPerUser: n}, nil)
			conns := make([]*fakeConn, n)
			var wg sync.WaitGroup
			for i := range conns {
				conns[i] = newFakeConn()
				c, err := h.Register(1, int64(i), conns[i])
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.Run(nil)
				}()
			}
			msg := []byte(`<div id="m" hx-swap-oob="true">hello</div>`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				h.SendToUser(1, msg)
				if i%batch == 0 || i == b.N {
					for _, c := range conns {
						for c.written.Load() < int64(i) {
							runtime.Gosched()
						}
					}
				}
			}
			b.StopTimer()
			if got := h.UserCount(1); got != n {
				b.Fatalf("%d connections left: a queue overflowed", got)
			}
			for _, c := range conns {
				c.Close()
			}
			wg.Wait()
		})
	}
}

// BenchmarkChannelSend is the baseline for BenchmarkSendToUser: the same
// non-blocking sends on buffered channels, each drained by a goroutine.
func BenchmarkChannelSend(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run("chans="+strconv.Itoa(n), func(b *testing.B) {
			chans := make([]chan []byte, n)
			counts := make([]atomic.Int64, n)
			var wg sync.WaitGroup
			for i := range chans {
				chans[i] = make(chan []byte, 32)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range chans[i] {
						counts[i].Add(1)
					}
				}()
			}
			msg := []byte(`<div id="m" hx-swap-oob="true">hello</div>`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				for _, ch := range chans {
					select {
					case ch <- msg:
					default:
						b.Fatal("queue overflowed")
					}
				}
				if i%batch == 0 || i == b.N {
					for j := range counts {
						for counts[j].Load() < int64(i) {
							runtime.Gosched()
						}
					}
				}
			}
			b.StopTimer()
			for _, ch := range chans {
				close(ch)
			}
			wg.Wait()
		})
	}
}
