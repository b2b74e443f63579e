package route

import (
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

func interactionValue(interaction *slack.Interaction, payload []byte) *records.SlackInteraction {
	value := &records.SlackInteraction{
		Type:                interaction.Type,
		TeamID:              optional(interaction.TeamID()),
		IsEnterpriseInstall: interaction.IsEnterpriseInstall,
		APIAppID:            optional(interaction.APIAppID),
		TriggerID:           optional(interaction.TriggerID),
		ResponseURL:         optional(interaction.ResponseURL),
		ResponseUrls:        make([]string, 0, len(interaction.ResponseURLs)),
		Actions:             make([]records.SlackInteractionAction, 0, len(interaction.Actions)),
		StateValuesJSON:     compactJSON(interaction.StateValues()),
		CallbackID:          optional(interaction.CallbackID),
		ActionTs:            optional(interaction.ActionTS),
		SlackJSON:           sharedString(payload),
	}
	if team := interaction.Team; team != nil {
		value.TeamDomain = optional(team.Domain)
	}
	if enterprise := interaction.Enterprise; enterprise != nil {
		value.EnterpriseID = optional(enterprise.ID)
	}
	if user := interaction.User; user != nil {
		value.UserID = optional(user.ID)
		value.UserName = optional(user.Username)
		if value.UserName == nil {
			value.UserName = optional(user.Name)
		}
		value.UserTeamID = optional(user.TeamID)
	}
	if channel := interaction.Channel; channel != nil {
		value.ChannelID = optional(channel.ID)
		value.ChannelName = optional(channel.Name)
	}
	if container := interaction.Container; container != nil {
		value.Container = &records.SlackInteractionContainer{
			Type:         optional(container.Type),
			MessageTs:    optional(container.MessageTS),
			ChannelID:    optional(container.ChannelID),
			ViewID:       optional(container.ViewID),
			ThreadTs:     optional(container.ThreadTS),
			AttachmentID: container.AttachmentID,
			IsEphemeral:  container.IsEphemeral,
		}
	}
	value.MessageTs = messageTS(interaction)
	for _, url := range interaction.ResponseURLs {
		if url.ResponseURL != "" {
			value.ResponseUrls = append(value.ResponseUrls, url.ResponseURL)
		}
	}
	for i := range interaction.Actions {
		value.Actions = append(value.Actions, action(&interaction.Actions[i]))
	}
	if view := interaction.View; view != nil {
		value.View = &records.SlackView{
			ID:                 optional(view.ID),
			Type:               optional(view.Type),
			CallbackID:         optional(view.CallbackID),
			PrivateMetadata:    optional(view.PrivateMetadata),
			Hash:               optional(view.Hash),
			ExternalID:         optional(view.ExternalID),
			RootViewID:         optional(view.RootViewID),
			PreviousViewID:     optional(view.PreviousViewID),
			AppInstalledTeamID: optional(view.AppInstalledTeamID),
		}
		if view.State != nil {
			value.View.StateValuesJSON = compactJSON(view.State.Values)
		}
	}
	return value
}

// messageTS returns the timestamp of the message an element was on.
func messageTS(interaction *slack.Interaction) *string {
	if interaction.Message != nil && interaction.Message.TS != "" {
		return &interaction.Message.TS
	}
	if interaction.Container != nil && interaction.Container.MessageTS != "" {
		return &interaction.Container.MessageTS
	}
	return optional(interaction.MessageTS)
}

func action(a *slack.Action) records.SlackInteractionAction {
	result := records.SlackInteractionAction{
		ActionID:             optional(a.ActionID),
		BlockID:              optional(a.BlockID),
		Type:                 optional(a.Type),
		Name:                 optional(a.Name),
		Value:                a.Value,
		SelectedOptionValues: make([]string, 0, len(a.SelectedOptions)),
		SelectedDate:         a.SelectedDate,
		SelectedTime:         a.SelectedTime,
		SelectedUser:         a.SelectedUser,
		SelectedUsers:        a.SelectedUsers,
		SelectedChannel:      a.SelectedChannel,
		SelectedConversation: a.SelectedConversation,
		ActionTs:             optional(a.ActionTS),
	}
	if result.SelectedUsers == nil {
		result.SelectedUsers = []string{}
	}
	if a.SelectedOption != nil {
		result.SelectedOptionValue = &a.SelectedOption.Value
	}
	for _, option := range a.SelectedOptions {
		result.SelectedOptionValues = append(result.SelectedOptionValues, option.Value)
	}
	return result
}
