// Package blobtest starts an S3 server for tests: gofakes3, an
// implementation of the S3 API, served over HTTP on a loopback port, so
// the S3 store is tested through real S3 requests.
package blobtest

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/minio/minio-go/v7"

	"dialoog/blob"
)

// Test credentials; the test server accepts any.
const (
	AccessKey = "dialoog-test"
	SecretKey = "dialoog-test-secret"
)

// S3Server is an S3 server running for one test.
type S3Server struct {
	// URL is the DIALOOG_BLOB_URL that selects its bucket.
	URL string
	// Config is URL parsed.
	Config *blob.S3Config
}

// NewS3Server starts an S3 server with one empty bucket, stopped when the
// test ends.
func NewS3Server(tb testing.TB) *S3Server {
	tb.Helper()
	backend := s3mem.New()
	const bucket = "dialoog"
	if err := backend.CreateBucket(bucket); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	tb.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	raw := "s3://" + AccessKey + ":" + SecretKey + "@" + u.Host + "/" + bucket + "/attachments?region=us-east-1&insecure=1"
	loc, err := blob.ParseURL(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return &S3Server{URL: raw, Config: loc.S3}
}

// Objects lists the object names in the bucket.
func (s *S3Server) Objects(tb testing.TB) []string {
	tb.Helper()
	st, err := blob.NewS3(s.Config)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for o := range st.Client().ListObjects(context.Background(), st.Bucket(), minioListAll()) {
		if o.Err != nil {
			tb.Fatal(o.Err)
		}
		names = append(names, strings.TrimPrefix(o.Key, s.Config.Prefix))
	}
	return names
}

func minioListAll() minio.ListObjectsOptions { return minio.ListObjectsOptions{Recursive: true} }
