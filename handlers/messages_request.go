package handlers

import (
	"fmt"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/identity"
	"dialoog/messaging"
)

// Bounds on posted message fields before they reach the service, whose own
// limits are far lower and give the message: a too-long text must arrive
// too long, not clipped into a valid one.
const (
	maxToFormLen      = 16 << 10
	maxSubjectFormLen = 4 << 10
	maxBodyFormLen    = 256 << 10
	maxEmailFormLen   = 1 << 10
	maxQueryLen       = 1 << 10
	// maxFilenameLen holds any name a file system allows (255 UTF-16
	// units, up to 1020 bytes in UTF-8), so that the service, which
	// shortens a long name, sees its extension.
	maxFilenameLen = 1 << 10
	// maxPostedIDs bounds the attachment ids a form may post; the service
	// refuses more than messaging.MaxAttachments with a message.
	maxPostedIDs = 4 * messaging.MaxAttachments
	// maxPage keeps the offset of a page far from overflowing.
	maxPage = 100_000
	// contactsShown bounds the suggestions under "Aan".
	contactsShown = 100
)

// errNotFound is the answer for an id that is malformed, unknown or not
// the user's: the three are indistinguishable on purpose.
var errNotFound = apperr.New(apperr.NotFound, "error.not_found")

// idParam returns the route parameter name as a database id. Only plain
// decimal digits of a positive int64 are ids; anything else (a sign, a
// letter, zero, a number too big) is NotFound, never a 500.
func idParam(c *fiber.Ctx, name string) (int64, error) {
	id, ok := parseID(c.Params(name))
	if !ok {
		return 0, errNotFound
	}
	return id, nil
}

// parseID accepts plain decimal digits of a positive int64.
func parseID(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// pageParam reads the inbox page (?pagina=2); anything unusable is page 1.
func pageParam(c *fiber.Ctx) int {
	p, ok := parseID(c.Query("pagina"))
	if !ok {
		return 1
	}
	return int(min(p, maxPage))
}

// formValues returns every value of a repeated form field, from a
// url-encoded or a multipart body, copied out of Fiber's buffers.
func formValues(c *fiber.Ctx, name string) []string {
	if isMultipart(c) {
		form, err := c.MultipartForm()
		if err != nil {
			return nil
		}
		return append([]string(nil), form.Value[name]...)
	}
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

// attachmentIDs reads the hidden "attachment" fields of a message form:
// the files app.js uploaded, or that an earlier failed post kept. Values
// that are not ids are dropped; the service checks that each is the
// user's own upload.
func attachmentIDs(c *fiber.Ctx) []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, s := range formValues(c, "attachment") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || id <= 0 || seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		if len(ids) == maxPostedIDs {
			break
		}
	}
	return ids
}

// postedAttachments gathers the attachments of a message form: the ids of
// files uploaded beforehand plus the files posted with the form itself.
// refused holds the field error for files that were not accepted.
func (h *handler) postedAttachments(c *fiber.Ctx, u *identity.User) (ids []int64, refused map[string]string, err error) {
	ids = attachmentIDs(c)
	uploaded, bad, err := h.uploadPosted(c, u, len(ids))
	if err != nil {
		return nil, nil, err
	}
	if len(bad) > 0 {
		refused = map[string]string{"attachments": strings.Join(bad, " ")}
	}
	return append(ids, uploaded...), refused, nil
}

// uploadPosted stores the files a message form posted itself, which it
// does without script (app.js uploads them one by one beforehand). It
// returns the new uploads' ids and, per refused file, a translated
// "name: reason".
func (h *handler) uploadPosted(c *fiber.Ctx, u *identity.User, already int) ([]int64, []string, error) {
	if !isMultipart(c) {
		return nil, nil, nil
	}
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil, fiber.NewError(fiber.StatusBadRequest, "malformed multipart form")
	}
	l := h.localizer(c)
	var ids []int64
	var refused []string
	for _, fh := range form.File["files"] {
		if fh.Filename == "" && fh.Size == 0 {
			continue // the empty part of a file input left empty
		}
		if already+len(ids) >= messaging.MaxAttachments {
			refused = append(refused, l.T("attachment.too_many"))
			break
		}
		a, err := h.uploadFile(c, u, fh)
		if err != nil {
			if code := apperr.CodeOf(err); code != apperr.Invalid && code != apperr.NoSpace {
				return nil, nil, err
			}
			refused = append(refused, l.T("attachment.file_error", "Name", uploadName(fh), "Message", h.fieldMessage(c, err, "attachments")))
			continue
		}
		ids = append(ids, a.ID)
	}
	return ids, refused, nil
}

// uploadFile hands one file posted with a message form to the service,
// which streams it into the blob store. A file above the limit is refused
// before it is read.
func (h *handler) uploadFile(c *fiber.Ctx, u *identity.User, fh *multipart.FileHeader) (*messaging.AttachmentView, error) {
	if fh.Size > messaging.MaxAttachmentSize {
		return nil, apperr.Field("attachments", "attachment.too_big")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	return h.messages.UploadFrom(c.UserContext(), u, uploadName(fh), f)
}

// uploadName is the posted file name, bounded; the service cleans it.
func uploadName(fh *multipart.FileHeader) string { return clipFilename(fh.Filename) }

// pendingItems loads the user's uploads among ids that still wait for a
// message, for a form shown again after an error.
func (h *handler) pendingItems(c *fiber.Ctx, u *identity.User, ids []int64) ([]components.AttachmentItem, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	atts, err := h.messages.PendingUploads(c.UserContext(), u, ids)
	if err != nil {
		return nil, fmt.Errorf("pending uploads: %w", err)
	}
	return attachmentItems(atts), nil
}

func attachmentItems(atts []messaging.AttachmentView) []components.AttachmentItem {
	out := make([]components.AttachmentItem, len(atts))
	for i, a := range atts {
		out[i] = attachmentItem(a)
	}
	return out
}

func attachmentItem(a messaging.AttachmentView) components.AttachmentItem {
	return components.AttachmentItem{ID: a.ID, Name: a.Name, ContentType: a.ContentType, Size: a.Size}
}

// messageFieldErrors translates a message form's field errors; an address
// refused by the account layer belongs to "Aan".
func (h *handler) messageFieldErrors(c *fiber.Ctx, err error) map[string]string {
	errs := h.fieldMessages(c, err)
	if msg, ok := errs["email"]; ok {
		delete(errs, "email")
		if _, taken := errs["to"]; !taken {
			errs["to"] = msg
		}
	}
	if len(errs) == 0 {
		errs["body"] = h.message(c, err)
	}
	return errs
}
