//! Placeholder: the rule language is being written (see the task given to the helper).
