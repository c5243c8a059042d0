"""The consensus knowledge base (cards/), loaded once and validated at start-up."""

from .loader import Knowledge, load_knowledge
from .models import Recommendation, Text, When

__all__ = ["Knowledge", "Recommendation", "Text", "When", "load_knowledge"]
