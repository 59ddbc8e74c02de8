package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3PartSize is the part size of a multipart upload: the smallest S3
// allows, because it is the buffer each upload in flight holds.
const S3PartSize = 5 << 20

// s3SmallSize is read before the part buffer is taken: a blob this small
// goes up in one request from a small buffer.
const s3SmallSize = 256 << 10

// S3Config is where and how to reach an S3-compatible bucket.
type S3Config struct {
	Endpoint  string // host[:port]
	Bucket    string
	Prefix    string // object name prefix inside the bucket, may be empty
	Region    string
	AccessKey string
	SecretKey string
	Insecure  bool // plain HTTP, for a local server
}

// String names the bucket without credentials.
func (c *S3Config) String() string {
	scheme := "https"
	if c.Insecure {
		scheme = "http"
	}
	return "s3 " + scheme + "://" + c.Endpoint + "/" + c.Bucket + "/" + c.Prefix
}

func s3ConfigFrom(u *url.URL) (*S3Config, error) {
	c := &S3Config{Endpoint: u.Host}
	if u.Host == "" {
		return nil, errors.New("s3:// needs a host, e.g. s3://ACCESS:SECRET@s3.example.nl/bucket")
	}
	path := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(path, "/")
	if bucket == "" {
		return nil, errors.New("s3:// needs a bucket as the path, e.g. s3://ACCESS:SECRET@s3.example.nl/bucket")
	}
	c.Bucket = bucket
	if prefix != "" {
		c.Prefix = strings.TrimSuffix(prefix, "/") + "/"
	}
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("s3:// needs ACCESS:SECRET@ before the host")
	}
	q := u.Query()
	c.Region = q.Get("region")
	switch q.Get("insecure") {
	case "", "0", "false":
	case "1", "true":
		c.Insecure = true
	default:
		return nil, errors.New("s3:// insecure must be 1 or 0")
	}
	for k := range q {
		if k != "region" && k != "insecure" {
			return nil, fmt.Errorf("s3:// has an unknown parameter %q (known: region, insecure)", k)
		}
	}
	return c, nil
}

// S3 keeps each blob as one object in a bucket of an S3-compatible
// service. A failed write leaves no object: a multipart upload is
// completed only when the whole content arrived, and aborted otherwise.
type S3 struct {
	cfg    *S3Config
	client *minio.Client
}

var _ Store = (*S3)(nil)

// NewS3 returns the store of cfg's bucket. It does not contact the server.
func NewS3(cfg *S3Config) (*S3, error) {
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: !cfg.Insecure,
		Region: cfg.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client for %s: %w", cfg, err)
	}
	return &S3{cfg: cfg, client: client}, nil
}

func (s *S3) String() string { return s.cfg.String() }

// Client is the underlying minio-go client, for tests and set-up.
func (s *S3) Client() *minio.Client { return s.client }

// Bucket is the bucket's name.
func (s *S3) Bucket() string { return s.cfg.Bucket }

func (s *S3) object(key string) string { return s.cfg.Prefix + key }

// Put uploads r as one object: a blob of up to S3PartSize in one request,
// a larger one as a multipart upload through one S3PartSize buffer, which
// is completed only after the last part and aborted on any error.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := checkKey(key); err != nil {
		return err
	}
	obj := s.object(key)
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	// Most attachments are small: read a little first, and take the part
	// buffer only for a blob that does not fit in it.
	small := make([]byte, s3SmallSize)
	n, rerr := io.ReadFull(r, small)
	if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
		if _, err := s.client.PutObject(ctx, s.cfg.Bucket, obj, bytes.NewReader(small[:n]), int64(n), opts); err != nil {
			return s3Err("put blob", err)
		}
		return nil
	}
	if rerr != nil {
		return fmt.Errorf("read blob content: %w", rerr)
	}
	buf := make([]byte, S3PartSize)
	copy(buf, small)
	small = nil
	m, rerr := io.ReadFull(r, buf[n:])
	n += m
	switch {
	case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
		// Fits one request after all.
		if _, err := s.client.PutObject(ctx, s.cfg.Bucket, obj, bytes.NewReader(buf[:n]), int64(n), opts); err != nil {
			return s3Err("put blob", err)
		}
		return nil
	case rerr != nil:
		return fmt.Errorf("read blob content: %w", rerr)
	}
	core := minio.Core{Client: s.client}
	uploadID, err := core.NewMultipartUpload(ctx, s.cfg.Bucket, obj, opts)
	if err != nil {
		return s3Err("start blob upload", err)
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if aerr := core.AbortMultipartUpload(actx, s.cfg.Bucket, obj, uploadID); aerr != nil {
				err = errors.Join(err, fmt.Errorf("abort blob upload: %w", aerr))
			}
		}
	}()
	var parts []minio.CompletePart
	for part := 1; ; part++ {
		// The content is authenticated by its own encryption; an unsigned
		// payload saves hashing each part twice.
		p, err := core.PutObjectPart(ctx, s.cfg.Bucket, obj, uploadID, part, bytes.NewReader(buf[:n]), int64(n),
			minio.PutObjectPartOptions{DisableContentSha256: true})
		if err != nil {
			return s3Err("put blob part", err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: part, ETag: p.ETag})
		if rerr != nil { // the part just sent was the last
			break
		}
		n, rerr = io.ReadFull(r, buf)
		if rerr == io.EOF {
			break
		}
		if rerr != nil && rerr != io.ErrUnexpectedEOF {
			return fmt.Errorf("read blob content: %w", rerr)
		}
	}
	if _, err := core.CompleteMultipartUpload(ctx, s.cfg.Bucket, obj, uploadID, parts, opts); err != nil {
		return s3Err("complete blob upload", err)
	}
	return nil
}

// Get opens the object; its content is fetched as it is read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.object(key), minio.GetObjectOptions{})
	if err != nil {
		return nil, s3Err("get blob", err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s3Err("get blob", err)
	}
	return obj, nil
}

// Delete removes the object.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.object(key), minio.RemoveObjectOptions{}); err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil
		}
		return s3Err("delete blob", err)
	}
	return nil
}

func s3Err(what string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey":
		return ErrNotFound
	case "QuotaExceeded", "XMinioStorageFull", "XMinioAdminBucketQuotaExceeded":
		return fmt.Errorf("%s: %w: %w", what, ErrNoSpace, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
