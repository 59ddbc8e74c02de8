package components

// LiveMessage is what one participant's pages get pushed over the live
// connection when a message arrives, is read or is deleted: the
// conversation's inbox line, the message as this participant sees it, and
// the header's unread count (Meta.Unread).
type LiveMessage struct {
	Thread InboxThread
	// Message is nil when it is not (or no longer) in the participant's
	// box.
	Message *MessageItem
	// Announce is read out by screen readers ("Nieuw bericht van OSAW:
	// Verzuim"); empty for the participant's own messages.
	Announce string
	// Participants replaces the open conversation's participant list (as
	// ThreadView has it, with CanResend for internal readers); nil leaves
	// it alone.
	Participants []ParticipantItem
	CanResend    bool
}

// liveListSelector is the first page of Berichten without a search, the
// list a new message moves its conversation to the top of.
const liveListSelector = "#thread-list[data-live]"

func liveRowDelete(threadID int64) string {
	return "delete:" + liveListSelector + " > #" + elementID("thread", threadID)
}

func messagesAppend(threadID int64) string {
	return "beforeend:#" + elementID("messages", threadID)
}
