"""Citizens' feedback on answers and the editors' inbox of unanswered questions."""
