"""Why the office's or a unit's request to the measures service was refused (outside progress
intake, whose refusals are the bus's reason codes). Raised inside a handler's transaction, a
refusal rolls back everything the handler did, so a refused request changes nothing."""

from enum import StrEnum


class Code(StrEnum):
    UNKNOWN_YEAR = "unknown_catalogue_year"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_MEASURE = "unknown_measure"
    UNKNOWN_TARGET = "unknown_target"
    VALUE_OUT_OF_RANGE = "value_out_of_range"
    UNIT_NOT_ASSIGNABLE = "unit_not_assignable"
    INVALID_UNITS = "invalid_units"
    INVALID_MILESTONES = "invalid_milestones"
    INVALID_RECURRENCE = "invalid_recurrence"
    DUPLICATE_CONFLICT = "duplicate_conflict"
    ASSIGNMENT_NOT_FOUND = "assignment_not_found"
    MILESTONE_NOT_FOUND = "milestone_not_found"
    REPORT_NOT_FOUND = "report_not_found"
    REQUEST_NOT_FOUND = "change_request_not_found"
    CATALOGUE_NOT_FOUND = "catalogue_not_found"
    CALENDAR_NOT_FOUND = "calendar_not_found"
    NOT_ASSIGNED = "not_assigned"
    ALREADY_REVIEWED = "already_reviewed"
    REASON_REQUIRED = "reason_required"
    ALREADY_DECIDED = "already_decided"
    INVALID_CHANGE = "invalid_change"
    VERSION_CONFLICT = "catalogue_version_conflict"
    INVALID_FILE = "invalid_file"
    INVALID_CALENDAR = "invalid_calendar"
    DATE_IN_FUTURE = "date_in_future"
    UNSUPPORTED_FORMAT = "unsupported_format"
    NOT_AN_OBLIGATION = "not_an_obligation"
    NOT_OBLIGATION_CARRIER = "not_obligation_carrier"


TEXT: dict[Code, tuple[str, str]] = {
    Code.UNKNOWN_YEAR: ("该年度没有举措清单", "No catalogue for that programme year"),
    Code.UNKNOWN_UNIT: ("责任单位不存在", "Unknown responsible unit"),
    Code.UNKNOWN_MEASURE: ("举措不存在", "Unknown measure"),
    Code.UNKNOWN_TARGET: ("该举措没有这个量化目标", "The measure has no such target"),
    Code.VALUE_OUT_OF_RANGE: ("数值超出允许范围", "The value is out of range"),
    Code.UNIT_NOT_ASSIGNABLE: ("市“五型”办不能作为责任单位", "The office cannot be assigned work"),
    Code.INVALID_UNITS: ("牵头或协办单位有误", "Invalid lead or co-operating units"),
    Code.INVALID_MILESTONES: ("节点任务安排有误", "Invalid milestones"),
    Code.INVALID_RECURRENCE: ("周期规则有误", "Invalid recurrence rule"),
    Code.DUPLICATE_CONFLICT: (
        "该编号已被使用，且内容不同",
        "This id was already used with different content",
    ),
    Code.ASSIGNMENT_NOT_FOUND: ("交办任务不存在", "Assignment not found"),
    Code.MILESTONE_NOT_FOUND: ("节点任务不存在", "Milestone not found"),
    Code.REPORT_NOT_FOUND: ("进展报告不存在", "Progress report not found"),
    Code.REQUEST_NOT_FOUND: ("变更申请不存在", "Change request not found"),
    Code.CATALOGUE_NOT_FOUND: ("该年度没有举措清单", "No catalogue for that programme year"),
    Code.CALENDAR_NOT_FOUND: ("该年度没有工作日历", "No working-day calendar for that year"),
    Code.NOT_ASSIGNED: ("该交办任务未交办给该单位", "The assignment is not assigned to that unit"),
    Code.ALREADY_REVIEWED: (
        "该报告已作出不同的审核结论",
        "The report was already reviewed with another decision",
    ),
    Code.REASON_REQUIRED: ("退回或不予批准须说明理由", "Returning or refusing needs a reason"),
    Code.ALREADY_DECIDED: (
        "该申请已作出不同的决定",
        "The request was already decided otherwise",
    ),
    Code.INVALID_CHANGE: ("申请内容有误", "Invalid change request"),
    Code.VERSION_CONFLICT: (
        "该版本号已用于内容不同的清单",
        "That version number is already used by a different catalogue",
    ),
    Code.INVALID_FILE: ("文件内容有误", "The file is not valid"),
    Code.INVALID_CALENDAR: ("工作日历有误", "Invalid working-day calendar"),
    Code.DATE_IN_FUTURE: ("日期晚于今天", "The date is in the future"),
    Code.UNSUPPORTED_FORMAT: ("不支持该文件格式", "Unsupported file format"),
    Code.NOT_AN_OBLIGATION: (
        "该年度举措清单未将其列为周期性工作任务",
        "The catalogue of that year declares no such obligation",
    ),
    Code.NOT_OBLIGATION_CARRIER: (
        "该单位不承担这项周期性工作任务",
        "The unit does not carry this obligation",
    ),
}


class Refused(Exception):
    """A request the service will not carry out; `code` is stable, the details say exactly why,
    in Chinese (units and measures by name, no English words) and in English."""

    def __init__(self, code: Code, detail_zh: str, detail_en: str):
        super().__init__(f"{code.value}: {detail_en}")
        self.code = code
        self.detail_zh, self.detail_en = detail_zh, detail_en
