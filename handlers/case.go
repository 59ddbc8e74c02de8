package handlers

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"dialoog/apperr"
	"dialoog/components"
	"dialoog/messaging"
)

// caseNotices are the confirmations a redirect back to a case page may ask
// for (?melding=...).
var caseNotices = map[string]string{
	"gesloten":   "case.notice_closed",
	"heropend":   "case.notice_reopened",
	"toegevoegd": "case.notice_added",
}

// caseShow is a case page (dossier); NotFound for anyone but the internal
// users of its organisation (decided in messaging).
func (h *handler) caseShow(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	cv, err := h.messages.Case(c.UserContext(), current(c).User, id)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return err
		}
		return fmt.Errorf("case %d: %w", id, err)
	}
	v := components.CaseView{Case: caseItem(cv.CaseInfo), Participants: cv.Participants}
	for _, t := range cv.Threads {
		v.Threads = append(v.Threads, components.CaseThreadItem{ID: t.ID, Subject: t.Subject, LastMessageAt: t.LastMessageAt,
			Medical: t.Medical, Redacted: t.Redacted, CanOpen: t.CanOpen})
	}
	for _, f := range cv.Attachments {
		v.Files = append(v.Files, components.CaseFileItem{ThreadID: f.ThreadID, CreatedAt: f.CreatedAt, CanOpen: f.CanOpen,
			AttachmentItem: components.AttachmentItem{ID: f.ID, Name: f.Name, ContentType: f.ContentType, Size: f.Size}})
	}
	if key, ok := caseNotices[c.Query("melding")]; ok {
		v.Notice = h.localizer(c).T(key)
	}
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.CasePage(m, v), components.CasePartial(m, v))
}

// caseList is "Dossiers": a page of the organisation's open or closed
// cases (?status=gesloten), searched by reference or person (?zoek=),
// after a reference (?na=); NotFound for anyone but the organisation's
// internal users (decided in messaging).
func (h *handler) caseList(c *fiber.Ctx) error {
	in := messaging.CaseListInput{Query: clip(c.Query("zoek"), 200), After: clip(c.Query("na"), 200)}
	if c.Query("status") == "gesloten" {
		in.Status = messaging.CaseClosed
	}
	l, err := h.messages.Cases(c.UserContext(), current(c).User, in)
	if err != nil {
		return err
	}
	v := components.CaseListView{Closed: l.Status == messaging.CaseClosed, Query: l.Query, After: in.After, Next: l.Next}
	for _, ci := range l.Cases {
		v.Cases = append(v.Cases, caseItem(ci))
	}
	m := h.meta(c)
	return h.page(c, fiber.StatusOK, components.CaseListPage(m, v), components.CaseListPartial(m, v))
}

// caseStatus closes a case (its conversations become read-only for
// everyone) or reopens it.
func (h *handler) caseStatus(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	status := clip(formValue(c, "status"), 16)
	if err := h.messages.SetCaseStatus(c.UserContext(), current(c).User, id, status); err != nil {
		return err
	}
	closed := status == messaging.CaseClosed
	notice := "heropend"
	if closed {
		notice = "gesloten"
	}
	h.logger(c).Info("case status changed", "case", id, "closed", closed)
	return seeOther(c, components.CaseURL(id)+"?melding="+notice)
}

// threadCaseAdd is "Aan dossier toevoegen" on a conversation: an existing
// open case (case=ID) or a new one (subject=ID, reference=...). A refusal
// shows the conversation again with the form open, as typed.
func (h *handler) threadCaseAdd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u := current(c).User
	reference := clipChars(formValue(c, "reference"), messaging.MaxCaseReference)
	subject, _ := strconv.ParseInt(clip(formValue(c, "subject"), 20), 10, 64)
	caseID, _ := strconv.ParseInt(clip(formValue(c, "case"), 20), 10, 64)
	if formValue(c, "case") != "" {
		err = h.messages.AddThreadToCase(c.UserContext(), u, id, caseID)
	} else {
		caseID, err = h.messages.CreateCaseForThread(c.UserContext(), u, id, subject, reference)
	}
	if err == nil {
		h.logger(c).Info("conversation added to case", "thread", id, "case", caseID)
		return seeOther(c, components.ThreadURL(id))
	}
	if apperr.CodeOf(err) != apperr.Invalid {
		return err
	}
	v, verr := h.threadView(c, id)
	if verr != nil {
		return verr
	}
	if v.Case != nil {
		errs := h.fieldMessages(c, err)
		v.Case.Reference, v.Case.Subject = reference, subject
		v.Case.ReferenceError, v.Case.SubjectError, v.Case.CaseError = errs["reference"], errs["subject"], errs["case"]
	}
	return h.threadPage(c, fiber.StatusUnprocessableEntity, v)
}

// threadCaseRemove takes a conversation out of its case.
func (h *handler) threadCaseRemove(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := h.messages.RemoveThreadFromCase(c.UserContext(), current(c).User, id); err != nil {
		if apperr.CodeOf(err) != apperr.Conflict {
			return err
		}
		v, verr := h.threadView(c, id)
		if verr != nil {
			return verr
		}
		v.Alert = h.message(c, err)
		return h.threadPage(c, statusOf(err), v)
	}
	h.logger(c).Info("conversation removed from case", "thread", id)
	return seeOther(c, components.ThreadURL(id))
}

func caseItem(ci messaging.CaseInfo) components.CaseItem {
	return components.CaseItem{ID: ci.ID, Reference: ci.Reference, SubjectName: ci.SubjectName, Closed: ci.Closed,
		CreatedAt: ci.CreatedAt, ClosedAt: ci.ClosedAt}
}

// threadCase is the case part of a conversation page.
func threadCase(tc *messaging.ThreadCase) *components.ThreadCase {
	if tc == nil {
		return nil
	}
	out := &components.ThreadCase{}
	if tc.Current != nil {
		cur := caseItem(*tc.Current)
		out.Current = &cur
	}
	for _, ch := range tc.Choices {
		out.Choices = append(out.Choices, caseItem(ch))
	}
	for _, s := range tc.Subjects {
		out.Subjects = append(out.Subjects, components.CaseSubjectItem{UserID: s.UserID, Name: s.Name})
	}
	return out
}
