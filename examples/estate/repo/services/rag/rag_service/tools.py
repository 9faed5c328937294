"""Tools the support agent may call."""

import httpx
from langchain_core.tools import tool

from rag_service.retrieval import search


@tool
def search_help_centre(question: str) -> str:
    """Search the help-centre articles for passages that answer the question."""
    return "\n\n".join(search(question))


@tool("order_status")
def lookup_order(order_id: str) -> str:
    """Look up the delivery status of an order."""
    response = httpx.get(f"https://orders.internal.northwind.example/api/orders/{order_id}")
    return response.text
