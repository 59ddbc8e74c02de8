package handlers

import (
	"context"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"dialoog/components"
	"dialoog/i18n"
	"dialoog/messaging"
	"dialoog/seal"
)

// pathSealVerify is "Document controleren": a signed-in user checks a PDF
// that Dialoog sealed.
const pathSealVerify = "/document-controleren"

// maxVerifyPDF is the largest PDF the page checks: as large as an
// attachment, which is how a sealed PDF arrives.
const maxVerifyPDF = messaging.MaxAttachmentSize

// Seals verifies sealed PDFs; *seal.Store implements it.
type Seals interface {
	// Verify says whether Dialoog sealed file and it is unchanged; a
	// refusal is a Result with a Problem, the error a failure to check.
	Verify(ctx context.Context, file []byte) (seal.Result, error)
}

var _ Seals = (*seal.Store)(nil)

func (h *handler) sealVerifyShow(c *fiber.Ctx) error {
	return h.sealVerifyPage(c, fiber.StatusOK, components.SealVerifyView{})
}

// sealVerifyCheck checks the uploaded PDF (a multipart form with the file
// "document") and shows the verdict; the file is not kept.
func (h *handler) sealVerifyCheck(c *fiber.Ctx) error {
	l := h.meta(c).L
	fh, err := c.FormFile("document")
	if err != nil || fh.Size == 0 {
		return h.sealVerifyPage(c, fiber.StatusUnprocessableEntity, components.SealVerifyView{FileError: l.T("sealcheck.error_missing")})
	}
	if fh.Size > maxVerifyPDF {
		return h.sealVerifyPage(c, fiber.StatusUnprocessableEntity, components.SealVerifyView{FileError: l.T("sealcheck.error_too_large")})
	}
	f, err := fh.Open()
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "unreadable upload")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxVerifyPDF+1))
	_ = f.Close()
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "unreadable upload")
	}
	res, err := h.seals.Verify(c.UserContext(), data)
	if err != nil {
		return err
	}
	if res.Problem == seal.ProblemNotPDF {
		return h.sealVerifyPage(c, fiber.StatusUnprocessableEntity, components.SealVerifyView{FileError: l.T("seal.error_not_pdf")})
	}
	v := sealVerifyView(l, res)
	v.FileName = strings.Clone(fh.Filename)
	h.logger(c).Info("sealed document checked", "sealed", res.Sealed, "problem", res.Problem, "org", res.OrgID)
	return h.sealVerifyPage(c, fiber.StatusOK, v)
}

// sealVerifyView turns a verdict into the page's text.
func sealVerifyView(l i18n.Localizer, res seal.Result) components.SealVerifyView {
	v := components.SealVerifyView{Checked: true, Sealed: res.Sealed, Organisation: res.Organisation}
	if !res.Sealed {
		switch res.Problem {
		case seal.ProblemForeign:
			v.Problem = l.T("sealcheck.problem_foreign")
		case seal.ProblemUnsigned:
			v.Problem = l.T("sealcheck.problem_unsigned")
		default:
			v.Problem = l.T("sealcheck.problem_changed")
		}
		return v
	}
	if ev := res.Evidence; ev != nil {
		v.HasEvidence = true
		reqUTC, reqLocal := seal.EvidenceTime(ev.RequestedAt)
		v.Evidence = components.SealEvidenceView{
			Organisation: ev.Organisation, DocumentName: ev.DocumentName, SHA256: ev.SHA256,
			RequestedBy: ev.RequestedBy, Pages: ev.Pages, RequestedAtUTC: reqUTC, RequestedAtLocal: reqLocal,
		}
		for _, s := range ev.Signatures {
			atUTC, atLocal := seal.EvidenceTime(s.At)
			v.Evidence.Signers = append(v.Evidence.Signers, components.SealSignerView{
				Name: s.Name, Email: s.Email, Method: seal.MethodText(l, s), AtUTC: atUTC, AtLocal: atLocal,
				IP: s.IP, UserAgent: s.UserAgent,
			})
		}
	}
	return v
}

func (h *handler) sealVerifyPage(c *fiber.Ctx, status int, v components.SealVerifyView) error {
	m := h.meta(c)
	return h.page(c, status, components.SealVerifyPage(m, v), components.SealVerifyPartial(m, v))
}
