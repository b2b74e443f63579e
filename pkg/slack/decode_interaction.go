package slack

import "encoding/json"

// The field names of each interaction struct that jsonReader decodes.
var (
	interactionNames = jsonNames(Interaction{})
	teamNames        = jsonNames(Team{})
	enterpriseNames  = jsonNames(Enterprise{})
	userNames        = jsonNames(User{})
	channelNames     = jsonNames(Channel{})
	containerNames   = jsonNames(Container{})
	responseURLNames = jsonNames(ResponseURL{})
	messageRefNames  = jsonNames(MessageRef{})
	viewNames        = jsonNames(View{})
	stateNames       = jsonNames(State{})
)

// interaction decodes an interaction payload into i. A payload other than
// an object or null is an error.
func (r *jsonReader) interaction(i *Interaction) {
	r.objectInto("", func() {
		r.object(func(key []byte) {
			switch fieldKey(key, interactionNames) {
			case "type":
				r.stringInto(&i.Type, "type")
			case "team":
				pointerInto(r, &i.Team, "team", r.team)
			case "enterprise":
				pointerInto(r, &i.Enterprise, "enterprise", r.enterprise)
			case "is_enterprise_install":
				r.boolInto(&i.IsEnterpriseInstall, "is_enterprise_install")
			case "api_app_id":
				r.stringInto(&i.APIAppID, "api_app_id")
			case "user":
				pointerInto(r, &i.User, "user", r.user)
			case "channel":
				pointerInto(r, &i.Channel, "channel", r.channel)
			case "container":
				pointerInto(r, &i.Container, "container", r.container)
			case "trigger_id":
				r.stringInto(&i.TriggerID, "trigger_id")
			case "response_url":
				r.stringInto(&i.ResponseURL, "response_url")
			case "response_urls":
				sliceInto(r, &i.ResponseURLs, "response_urls", r.responseURL)
			case "message":
				pointerInto(r, &i.Message, "message", r.messageRef)
			case "message_ts":
				r.stringInto(&i.MessageTS, "message_ts")
			case "actions":
				sliceInto(r, &i.Actions, "actions", r.action)
			case "view":
				pointerInto(r, &i.View, "view", r.view)
			case "state":
				r.rawInto(&i.State)
			case "callback_id":
				r.stringInto(&i.CallbackID, "callback_id")
			case "action_ts":
				r.stringInto(&i.ActionTS, "action_ts")
			default:
				r.skip()
			}
		})
	})
}

// rawInto copies the value's JSON text into target, as json.RawMessage
// does, which keeps a null as the text "null".
func (r *jsonReader) rawInto(target *json.RawMessage) {
	start := skipJSONSpace(r.data, r.pos)
	r.skip()
	*target = append((*target)[:0], r.data[start:r.pos]...)
}

func (r *jsonReader) team(team *Team) {
	r.object(func(key []byte) {
		switch fieldKey(key, teamNames) {
		case "id":
			r.stringInto(&team.ID, "id")
		case "domain":
			r.stringInto(&team.Domain, "domain")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) enterprise(enterprise *Enterprise) {
	r.object(func(key []byte) {
		switch fieldKey(key, enterpriseNames) {
		case "id":
			r.stringInto(&enterprise.ID, "id")
		case "name":
			r.stringInto(&enterprise.Name, "name")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) user(user *User) {
	r.object(func(key []byte) {
		switch fieldKey(key, userNames) {
		case "id":
			r.stringInto(&user.ID, "id")
		case "username":
			r.stringInto(&user.Username, "username")
		case "name":
			r.stringInto(&user.Name, "name")
		case "team_id":
			r.stringInto(&user.TeamID, "team_id")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) channel(channel *Channel) {
	r.object(func(key []byte) {
		switch fieldKey(key, channelNames) {
		case "id":
			r.stringInto(&channel.ID, "id")
		case "name":
			r.stringInto(&channel.Name, "name")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) container(container *Container) {
	r.object(func(key []byte) {
		switch fieldKey(key, containerNames) {
		case "type":
			r.stringInto(&container.Type, "type")
		case "message_ts":
			r.stringInto(&container.MessageTS, "message_ts")
		case "channel_id":
			r.stringInto(&container.ChannelID, "channel_id")
		case "view_id":
			r.stringInto(&container.ViewID, "view_id")
		case "thread_ts":
			r.stringInto(&container.ThreadTS, "thread_ts")
		case "attachment_id":
			if r.isNull() {
				container.AttachmentID = nil
				break
			}
			if container.AttachmentID == nil {
				container.AttachmentID = new(int64)
			}
			r.int64Into(container.AttachmentID, "attachment_id")
		case "is_ephemeral":
			r.boolInto(&container.IsEphemeral, "is_ephemeral")
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) responseURL(url *ResponseURL) {
	r.objectInto("response_urls", func() {
		r.object(func(key []byte) {
			switch fieldKey(key, responseURLNames) {
			case "block_id":
				r.stringInto(&url.BlockID, "block_id")
			case "action_id":
				r.stringInto(&url.ActionID, "action_id")
			case "channel_id":
				r.stringInto(&url.ChannelID, "channel_id")
			case "response_url":
				r.stringInto(&url.ResponseURL, "response_url")
			default:
				r.skip()
			}
		})
	})
}

func (r *jsonReader) messageRef(message *MessageRef) {
	r.object(func(key []byte) {
		if fieldKey(key, messageRefNames) == "ts" {
			r.stringInto(&message.TS, "ts")
		} else {
			r.skip()
		}
	})
}

func (r *jsonReader) view(view *View) {
	r.object(func(key []byte) {
		switch fieldKey(key, viewNames) {
		case "id":
			r.stringInto(&view.ID, "id")
		case "team_id":
			r.stringInto(&view.TeamID, "team_id")
		case "type":
			r.stringInto(&view.Type, "type")
		case "callback_id":
			r.stringInto(&view.CallbackID, "callback_id")
		case "private_metadata":
			r.stringInto(&view.PrivateMetadata, "private_metadata")
		case "hash":
			r.stringInto(&view.Hash, "hash")
		case "external_id":
			r.stringInto(&view.ExternalID, "external_id")
		case "root_view_id":
			r.stringInto(&view.RootViewID, "root_view_id")
		case "previous_view_id":
			r.stringInto(&view.PreviousViewID, "previous_view_id")
		case "app_installed_team_id":
			r.stringInto(&view.AppInstalledTeamID, "app_installed_team_id")
		case "state":
			pointerInto(r, &view.State, "state", r.state)
		default:
			r.skip()
		}
	})
}

func (r *jsonReader) state(state *State) {
	r.object(func(key []byte) {
		if fieldKey(key, stateNames) == "values" {
			r.rawInto(&state.Values)
		} else {
			r.skip()
		}
	})
}

// action decodes an action with the lenient rules of Action.UnmarshalJSON:
// any value other than an object or null is an error, and the fields take
// a JSON value of any type.
func (r *jsonReader) action(action *Action) {
	*action = Action{}
	switch r.next() {
	case 'n':
		r.isNull()
		return
	case '{':
	default:
		r.fail("actions")
		return
	}
	// Action.UnmarshalJSON reads the fields from a map, so keys match
	// exactly and a repeated key counts once, with its last value.
	r.object(func(key []byte) {
		switch string(key) {
		case "action_id":
			action.ActionID = r.textOrEmpty()
		case "block_id":
			action.BlockID = r.textOrEmpty()
		case "type":
			action.Type = r.textOrEmpty()
		case "name":
			action.Name = r.textOrEmpty()
		case "value":
			action.Value = r.text()
		case "selected_option":
			action.SelectedOption = r.option()
		case "selected_options":
			action.SelectedOptions = r.options()
		case "selected_date":
			action.SelectedDate = r.text()
		case "selected_time":
			action.SelectedTime = r.text()
		case "selected_user":
			action.SelectedUser = r.text()
		case "selected_users":
			action.SelectedUsers = r.texts()
		case "selected_channel":
			action.SelectedChannel = r.text()
		case "selected_conversation":
			action.SelectedConversation = r.text()
		case "action_ts":
			action.ActionTS = r.textOrEmpty()
		default:
			r.skip()
		}
	})
}

// text reads a value as the function text does: a string's value, the
// JSON text of any other value, or nil for null.
func (r *jsonReader) text() *string {
	switch r.next() {
	case 'n':
		r.isNull()
		return nil
	case '"':
		value, _ := r.stringValue("")
		return &value
	default:
		start := r.pos
		r.skip()
		value := string(r.data[start:r.pos])
		return &value
	}
}

func (r *jsonReader) textOrEmpty() string {
	if value := r.text(); value != nil {
		return *value
	}
	return ""
}

// texts reads a value as the function texts does: nil unless it is an
// array or null, and then the text of each element that is not null.
func (r *jsonReader) texts() []string {
	switch r.next() {
	case 'n':
		r.isNull()
		return []string{}
	case '[':
	default:
		r.skip()
		return nil
	}
	values := []string{}
	r.array(func() {
		if value := r.text(); value != nil {
			values = append(values, *value)
		}
	})
	return values
}

// option reads a value as the function option does: an Option for an
// object, nil for anything else.
func (r *jsonReader) option() *Option {
	if r.next() != '{' {
		r.skip()
		return nil
	}
	option := &Option{}
	r.object(func(key []byte) {
		if string(key) == "value" {
			option.Value = r.textOrEmpty()
		} else {
			r.skip()
		}
	})
	return option
}

// options reads selected_options as Action.UnmarshalJSON does: the
// options among an array's elements, nil for an empty array or any other
// value.
func (r *jsonReader) options() []Option {
	if r.next() != '[' {
		r.skip()
		return nil
	}
	var options []Option
	r.array(func() {
		if option := r.option(); option != nil {
			options = append(options, *option)
		}
	})
	return options
}
