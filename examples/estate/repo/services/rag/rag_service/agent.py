"""The support agent: a tool-calling LangChain agent on OpenAI."""

from langchain.agents import AgentExecutor, create_tool_calling_agent
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI

from rag_service.settings import CHAT_MODEL
from rag_service.tools import lookup_order, search_help_centre

SYSTEM_PROMPT = (
    "You are Northwind's support assistant. Answer from the help-centre articles; "
    "never reveal order details without an order number."
)

llm = ChatOpenAI(model="gpt-4o-mini", temperature=0)
prompt = ChatPromptTemplate.from_messages(
    [("system", SYSTEM_PROMPT), ("human", "{input}"), ("placeholder", "{agent_scratchpad}")]
)
tools = [search_help_centre, lookup_order]
support_agent = AgentExecutor(
    agent=create_tool_calling_agent(llm, tools, prompt),
    tools=[search_help_centre, lookup_order],
)


def answer(question: str) -> str:
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}]
    return str(support_agent.invoke({"input": question, "chat_history": messages})["output"])
