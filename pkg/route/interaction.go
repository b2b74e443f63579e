package route

import (
	"github.com/lsst-sqre/squarebot/pkg/records"
	"github.com/lsst-sqre/squarebot/pkg/slack"
)

func interactionValue(interaction *slack.Interaction, payload []byte, strs *stringBlock) *records.SlackInteraction {
	value := &records.SlackInteraction{
		Type:                interaction.Type,
		TeamID:              strs.optional(interaction.TeamID()),
		IsEnterpriseInstall: interaction.IsEnterpriseInstall,
		APIAppID:            strs.optional(interaction.APIAppID),
		TriggerID:           strs.optional(interaction.TriggerID),
		ResponseURL:         strs.optional(interaction.ResponseURL),
		ResponseUrls:        make([]string, 0, len(interaction.ResponseURLs)),
		Actions:             make([]records.SlackInteractionAction, 0, len(interaction.Actions)),
		StateValuesJSON:     compactJSON(interaction.StateValues()),
		CallbackID:          strs.optional(interaction.CallbackID),
		ActionTs:            strs.optional(interaction.ActionTS),
		SlackJSON:           sharedString(payload),
	}
	if team := interaction.Team; team != nil {
		value.TeamDomain = strs.optional(team.Domain)
	}
	if enterprise := interaction.Enterprise; enterprise != nil {
		value.EnterpriseID = strs.optional(enterprise.ID)
	}
	if user := interaction.User; user != nil {
		value.UserID = strs.optional(user.ID)
		value.UserName = strs.optional(user.Username)
		if value.UserName == nil {
			value.UserName = strs.optional(user.Name)
		}
		value.UserTeamID = strs.optional(user.TeamID)
	}
	if channel := interaction.Channel; channel != nil {
		value.ChannelID = strs.optional(channel.ID)
		value.ChannelName = strs.optional(channel.Name)
	}
	if container := interaction.Container; container != nil {
		value.Container = &records.SlackInteractionContainer{
			Type:         strs.optional(container.Type),
			MessageTs:    strs.optional(container.MessageTS),
			ChannelID:    strs.optional(container.ChannelID),
			ViewID:       strs.optional(container.ViewID),
			ThreadTs:     strs.optional(container.ThreadTS),
			AttachmentID: container.AttachmentID,
			IsEphemeral:  container.IsEphemeral,
		}
	}
	value.MessageTs = messageTS(interaction, strs)
	for _, url := range interaction.ResponseURLs {
		if url.ResponseURL != "" {
			value.ResponseUrls = append(value.ResponseUrls, url.ResponseURL)
		}
	}
	for i := range interaction.Actions {
		value.Actions = append(value.Actions, action(&interaction.Actions[i], strs))
	}
	if view := interaction.View; view != nil {
		value.View = &records.SlackView{
			ID:                 strs.optional(view.ID),
			Type:               strs.optional(view.Type),
			CallbackID:         strs.optional(view.CallbackID),
			PrivateMetadata:    strs.optional(view.PrivateMetadata),
			Hash:               strs.optional(view.Hash),
			ExternalID:         strs.optional(view.ExternalID),
			RootViewID:         strs.optional(view.RootViewID),
			PreviousViewID:     strs.optional(view.PreviousViewID),
			AppInstalledTeamID: strs.optional(view.AppInstalledTeamID),
		}
		if view.State != nil {
			value.View.StateValuesJSON = compactJSON(view.State.Values)
		}
	}
	return value
}

// messageTS returns the timestamp of the message an element was on.
func messageTS(interaction *slack.Interaction, strs *stringBlock) *string {
	if interaction.Message != nil && interaction.Message.TS != "" {
		return &interaction.Message.TS
	}
	if interaction.Container != nil && interaction.Container.MessageTS != "" {
		return &interaction.Container.MessageTS
	}
	return strs.optional(interaction.MessageTS)
}

func action(a *slack.Action, strs *stringBlock) records.SlackInteractionAction {
	result := records.SlackInteractionAction{
		ActionID:             strs.optional(a.ActionID),
		BlockID:              strs.optional(a.BlockID),
		Type:                 strs.optional(a.Type),
		Name:                 strs.optional(a.Name),
		Value:                a.Value,
		SelectedOptionValues: make([]string, 0, len(a.SelectedOptions)),
		SelectedDate:         a.SelectedDate,
		SelectedTime:         a.SelectedTime,
		SelectedUser:         a.SelectedUser,
		SelectedUsers:        a.SelectedUsers,
		SelectedChannel:      a.SelectedChannel,
		SelectedConversation: a.SelectedConversation,
		ActionTs:             strs.optional(a.ActionTS),
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
