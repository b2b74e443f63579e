package e2e

import (
	"slices"
	"testing"

	"github.com/lsst-sqre/squarebot/pkg/records"
)

// checkMessageFields checks typed fields of the fixtures with something
// particular to prove.
func checkMessageFields(t *testing.T, name string, value *records.SlackMessageEvent) {
	expect := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	switch name {
	case "app_mention_plain":
		expect("type", value.Type, "app_mention")
		expect("channel_type", text(value.ChannelType), "<null>")
	case "app_mention_in_thread", "message_channels_thread_reply":
		if value.ThreadTs == nil {
			t.Error("thread_ts is null, want the parent's ts")
		}
	case "app_mention_rich_text_blocks":
		if value.BlockCount == 0 {
			t.Error("block_count = 0, want the rich_text blocks counted")
		}
	case "app_mention_with_files":
		if len(value.FileIds) != 2 {
			t.Errorf("file_ids = %v, want 2 ids", value.FileIds)
		}
	case "message_im":
		expect("channel_type", text(value.ChannelType), "im")
		expect("subtype", text(value.Subtype), "<null>")
	case "message_app_post_with_attachments":
		expect("bot_id", text(value.BotID), "B0000000002")
		if !value.IsBot {
			t.Error("is_bot = false for a message with bot_id")
		}
		if value.AttachmentCount == 0 {
			t.Error("attachment_count = 0")
		}
	case "message_bot_message":
		expect("subtype", text(value.Subtype), "bot_message")
		expect("user", text(value.User), "<null>")
		if !value.IsBot {
			t.Error("is_bot = false for bot_message")
		}
	case "message_deleted":
		expect("subtype", text(value.Subtype), "message_deleted")
		expect("text", text(value.Text), "<null>")
		expect("deleted_ts", text(value.DeletedTs), "1718000800.000100")
		if value.PreviousMessage == nil {
			t.Fatal("previous_message is null")
		}
		expect("previous_message.user", text(value.PreviousMessage.User), "U0000000002")
	case "message_changed":
		expect("subtype", text(value.Subtype), "message_changed")
		if value.Message == nil || value.PreviousMessage == nil {
			t.Fatal("message or previous_message is null")
		}
		expect("message.text", text(value.Message.Text), "Deploy window moved to 15:00 UTC")
		expect("previous_message.text", text(value.PreviousMessage.Text), "Deploy window moved to 14:00 UTC")
		if value.Message.Edited == nil {
			t.Fatal("message.edited is null")
		}
		expect("message.edited.ts", text(value.Message.Edited.Ts), "1718004010.000000")
	case "message_thread_broadcast":
		expect("subtype", text(value.Subtype), "thread_broadcast")
	case "message_file_share":
		expect("subtype", text(value.Subtype), "file_share")
		if len(value.FileIds) != 1 {
			t.Errorf("file_ids = %v, want 1 id", value.FileIds)
		}
	case "message_ext_shared_channel":
		expect("team_id", text(value.TeamID), "T0000000009")
		expect("context_team_id", text(value.ContextTeamID), "T0000000001")
		if !value.IsExtSharedChannel {
			t.Error("is_ext_shared_channel = false")
		}
	}
}

func checkInteractionFields(t *testing.T, name string, value *records.SlackInteraction) {
	expect := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	firstAction := func() records.SlackInteractionAction {
		t.Helper()
		if len(value.Actions) == 0 {
			t.Fatal("actions is empty")
		}
		return value.Actions[0]
	}
	switch name {
	case "block_actions_button_message":
		expect("type", value.Type, "block_actions")
		expect("actions[0].type", text(firstAction().Type), "button")
		if value.ResponseURL == nil || value.TriggerID == nil {
			t.Error("response_url or trigger_id is null")
		}
	case "block_actions_static_select_message_im":
		if firstAction().SelectedOptionValue == nil {
			t.Error("selected_option_value is null for a static_select")
		}
		if value.StateValuesJSON == nil {
			t.Error("state_values_json is null, want the top-level state.values")
		}
	case "block_actions_multi_static_select_message":
		if len(firstAction().SelectedOptionValues) == 0 {
			t.Error("selected_option_values is empty for a multi_static_select")
		}
	case "block_actions_overflow_ephemeral":
		if value.Container == nil || !value.Container.IsEphemeral {
			t.Error("container.is_ephemeral is not true")
		}
	case "block_actions_datepicker_modal":
		expect("channel_id", text(value.ChannelID), "<null>")
		if firstAction().SelectedDate == nil {
			t.Error("selected_date is null for a datepicker")
		}
		if value.View == nil || value.View.StateValuesJSON == nil {
			t.Error("view.state_values_json is null")
		}
	case "block_actions_checkboxes_modal":
		if len(firstAction().SelectedOptionValues) == 0 {
			t.Error("selected_option_values is empty for checkboxes")
		}
		if value.View == nil || value.View.RootViewID == nil || value.View.PreviousViewID == nil {
			t.Error("view root_view_id or previous_view_id is null for a pushed modal")
		}
	case "block_actions_button_home_tab":
		if value.View == nil {
			t.Fatal("view is null")
		}
		expect("view.type", text(value.View.Type), "home")
	case "block_actions_button_attachment_container":
		if value.Container == nil || value.Container.AttachmentID == nil {
			t.Error("container.attachment_id is null")
		}
	case "block_actions_org_install":
		expect("team_id", text(value.TeamID), "T0000000001")
		expect("enterprise_id", text(value.EnterpriseID), "E0000000001")
		if !value.IsEnterpriseInstall {
			t.Error("is_enterprise_install = false")
		}
		if len(value.Actions) != 2 {
			t.Fatalf("actions = %d, want 2", len(value.Actions))
		}
		expect("actions[0].selected_time", text(value.Actions[0].SelectedTime), "22:30")
		expect("actions[1].type", text(value.Actions[1].Type), "rating_stars")
		expect("actions[1].value", text(value.Actions[1].Value), "4")
	case "view_submission", "view_submission_response_urls":
		if value.View == nil || value.View.CallbackID == nil || value.View.StateValuesJSON == nil {
			t.Error("view callback_id or state_values_json is null")
		}
		if name == "view_submission_response_urls" && len(value.ResponseUrls) != 1 {
			t.Errorf("response_urls = %v, want 1 URL", value.ResponseUrls)
		}
	case "view_closed":
		expect("type", value.Type, "view_closed")
		expect("view.private_metadata", text(value.View.PrivateMetadata), `{"incident":"INC-7"}`)
	case "shortcut_global":
		expect("callback_id", text(value.CallbackID), "open_incident_modal")
		expect("response_url", text(value.ResponseURL), "<null>")
	case "message_action":
		expect("message_ts", text(value.MessageTs), "1718000501.000100")
	case "interactive_message":
		expect("actions[0].name", text(firstAction().Name), "approve")
		expect("user_name", text(value.UserName), "example.user3")
	case "dialog_submission", "dialog_cancellation":
		if value.CallbackID == nil {
			t.Error("callback_id is null for a legacy dialog payload")
		}
		expect("state_values_json", text(value.StateValuesJSON), "<null>")
	case "block_suggestion":
		expect("type", value.Type, "block_suggestion")
	}
	if !slices.Contains([]string{"block_actions", "view_submission", "view_closed", "shortcut", "message_action",
		"block_suggestion", "interactive_message", "dialog_submission", "dialog_cancellation"}, value.Type) {
		t.Errorf("type = %s, not an interaction type", value.Type)
	}
}
