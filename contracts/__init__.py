"""The platform's shared vocabulary: messages, their envelope, subjects and streams."""
