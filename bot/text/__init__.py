"""Text processing shared by passages and questions: sentences, passages, analysis."""
